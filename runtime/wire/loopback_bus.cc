#include "runtime/wire/loopback_bus.h"

#include "runtime/base/log.h"

namespace cairn::wire {

StatusOr<std::unique_ptr<LoopbackBus>> LoopbackBus::Start(Enrollment mode, int64_t max_message_bytes) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey id, Ed25519PrivateKey::Generate());
  std::unique_ptr<LoopbackBus> bus(new LoopbackBus(std::move(id)));
  ASSIGN_OR_RETURN(bus->context_, WireContext::Create(mode));
  ServerOptions options;
  options.bind = "tcp://127.0.0.1:0";
  options.max_message_bytes = max_message_bytes;
  ASSIGN_OR_RETURN(options.keys, CurveKeysOf(bus->server_identity_));
  ASSIGN_OR_RETURN(bus->server_, WireServer::Bind(bus->context_.get(), std::move(options)));
  bus->handlers_ = std::make_unique<BaseHandlers>(bus->server_.get(), Clock::System(), BusSettings{});
  WireServer* server = bus->server_.get();
  bus->thread_ = std::thread([server] {
    Status s = server->Run();
    if (!s.ok()) CAIRN_LOG_ERROR("loopback bus stopped: {}", s.ToString());
  });
  return bus;
}

LoopbackBus::~LoopbackBus() {
  if (server_) server_->Stop();
  if (thread_.joinable()) thread_.join();
  handlers_.reset();
  server_.reset();
  context_.reset();
}

StatusOr<std::unique_ptr<WireClient>> LoopbackBus::Connect(const Ed25519PrivateKey& identity) {
  ClientOptions options;
  options.connect = server_->endpoint();
  options.server_public_key = server_->public_key();
  ASSIGN_OR_RETURN(options.keys, CurveKeysOf(identity));
  return WireClient::Connect(context_.get(), std::move(options));
}

}  // namespace cairn::wire
