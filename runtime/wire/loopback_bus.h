// LoopbackBus: a complete bus endpoint (context with ZAP, CURVE ROUTER on
// 127.0.0.1, the base handlers) served from a background thread, plus
// clients that connect to it. Used by tests, benchmarks and `cairn demo`;
// the coordinator builds the same parts itself.
//
// Thread safety: construct, use and destroy from one thread; the server runs
// on its own thread between Start() and destruction.
#ifndef CAIRN_RUNTIME_WIRE_LOOPBACK_BUS_H_
#define CAIRN_RUNTIME_WIRE_LOOPBACK_BUS_H_

#include <memory>
#include <thread>

#include "runtime/wire/base_handlers.h"
#include "runtime/wire/client.h"

namespace cairn::wire {

class LoopbackBus {
 public:
  // Binds tcp://127.0.0.1 on a free port with a fresh server identity.
  static StatusOr<std::unique_ptr<LoopbackBus>> Start(Enrollment mode, int64_t max_message_bytes = 4 << 20);
  ~LoopbackBus();

  // A client authenticated with `identity`'s CURVE keys.
  StatusOr<std::unique_ptr<WireClient>> Connect(const Ed25519PrivateKey& identity);

  WireContext& context() { return *context_; }
  const WireServer& server() const { return *server_; }
  const std::string& endpoint() const { return server_->endpoint(); }
  const Ed25519PrivateKey& server_identity() const { return server_identity_; }

 private:
  explicit LoopbackBus(Ed25519PrivateKey id) : server_identity_(std::move(id)) {}
  Ed25519PrivateKey server_identity_;
  std::unique_ptr<WireContext> context_;
  std::unique_ptr<WireServer> server_;
  std::unique_ptr<BaseHandlers> handlers_;
  std::thread thread_;
};

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_LOOPBACK_BUS_H_
