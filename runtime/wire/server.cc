#include "runtime/wire/server.h"

#include <zmq.h>

#include "runtime/base/clock.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"

namespace cairn::wire {

WireServer::WireServer(WireContext* context, ServerOptions options)
    : options_(std::move(options)),
      socket_(context->raw(), ZMQ_ROUTER),
      wake_pull_(context->raw(), ZMQ_PULL),
      wake_push_(context->raw(), ZMQ_PUSH) {}

StatusOr<std::unique_ptr<WireServer>> WireServer::Bind(WireContext* context, ServerOptions options) {
  if (options.keys.secret_key.size() != 32 || options.keys.public_key.size() != 32) {
    return InvalidArgumentError("server CURVE keys must be 32 bytes each");
  }
  std::unique_ptr<WireServer> s(new WireServer(context, std::move(options)));
  ZmqSocket& sock = s->socket_;
  if (!sock.valid()) return ZmqError("zmq_socket(ROUTER)");
  RETURN_IF_ERROR(sock.SetInt(ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER"));
  RETURN_IF_ERROR(sock.SetOption(ZMQ_CURVE_SECRETKEY, s->options_.keys.secret_key.data(), 32, "ZMQ_CURVE_SECRETKEY"));
  RETURN_IF_ERROR(sock.SetOption(ZMQ_ZAP_DOMAIN, "cairn", 5, "ZMQ_ZAP_DOMAIN"));
  RETURN_IF_ERROR(sock.SetInt64(ZMQ_MAXMSGSIZE, s->options_.max_message_bytes, "ZMQ_MAXMSGSIZE"));
  RETURN_IF_ERROR(sock.SetInt(ZMQ_SNDHWM, s->options_.high_water_mark, "ZMQ_SNDHWM"));
  RETURN_IF_ERROR(sock.SetInt(ZMQ_RCVHWM, s->options_.high_water_mark, "ZMQ_RCVHWM"));
  RETURN_IF_ERROR(sock.Bind(s->options_.bind));
  s->endpoint_ = sock.LastEndpoint();
  const std::string wake = "inproc://cairn-server-wake-" + std::to_string(reinterpret_cast<uintptr_t>(s.get()));
  if (!s->wake_pull_.valid() || !s->wake_push_.valid()) return ZmqError("zmq_socket(inproc wake)");
  RETURN_IF_ERROR(s->wake_pull_.Bind(wake));
  RETURN_IF_ERROR(s->wake_push_.Connect(wake));
  return s;
}

void WireServer::OnTick(int interval_ms, std::function<void()> tick) {
  tick_interval_ms_ = interval_ms;
  tick_ = std::move(tick);
}

Status WireServer::Run() {
  while (!stopping_.load()) {
    auto r = ServeOnce(100);
    if (!r.ok()) return r.status();
  }
  return OkStatus();
}

StatusOr<bool> WireServer::ServeOnce(int timeout_ms) {
  const bool ticking = tick_ && tick_interval_ms_ > 0;
  if (ticking) {
    const int64_t now = options_.clock->MonotonicNanos() / 1'000'000;
    timeout_ms = static_cast<int>(std::min<int64_t>(timeout_ms, std::max<int64_t>(0, next_tick_ - now)));
  }
  zmq_pollitem_t items[2] = {{socket_.raw(), 0, ZMQ_POLLIN, 0}, {wake_pull_.raw(), 0, ZMQ_POLLIN, 0}};
  if (zmq_poll(items, 2, timeout_ms) < 0) {
    if (zmq_errno() == EINTR) return false;
    return ZmqError("zmq_poll");
  }
  if (items[1].revents & ZMQ_POLLIN) RunPosted();
  if (items[0].revents & ZMQ_POLLIN) {
    // Whatever is already queued, for one poll (under load the poll is paid
    // once per batch, not once per message), up to a cap so posted work and
    // ticks still run under a flood.
    for (int i = 0; i < 4096; ++i) {
      auto msg = socket_.TryReceive(/*max_frames=*/8);
      if (!msg.ok()) {
        if (msg.status().code() == StatusCode::kDeadlineExceeded) break;
        return msg.status();
      }
      received_.fetch_add(1);
      Handle(*msg);
    }
  }
  // The tick comes after what was queued: after a stall (a slow disk, a
  // paused process) the heartbeats that arrived meanwhile count before
  // anyone's liveness is judged.
  if (ticking) {
    const int64_t now = options_.clock->MonotonicNanos() / 1'000'000;
    if (now >= next_tick_) {
      tick_();
      next_tick_ = now + tick_interval_ms_;
    }
  }
  return items[0].revents != 0 || items[1].revents != 0;
}

void WireServer::Handle(const ReceivedMessage& msg) {
  // A ROUTER always prepends exactly one routing frame.
  const std::string& routing_id = msg.frames[0];
  size_t n = msg.frames.size() + msg.dropped_frames;
  if (n != 3) {
    SendError(routing_id,
              InvalidArgumentError("expected 2 frames [type, payload] after routing, got " + std::to_string(n - 1)),
              true);
    return;
  }
  auto type = ParseTypeFrame(msg.frames[1]);
  if (!type.ok()) {
    SendError(routing_id, type.status(), true);
    return;
  }
  const std::string& payload = msg.frames[2];
  if (payload.size() > MaxPayloadBytes(*type)) {
    SendError(routing_id,
              OutOfRangeError(std::string(MessageTypeName(*type)) + " payload of " + std::to_string(payload.size()) +
                              " bytes exceeds the limit of " + std::to_string(MaxPayloadBytes(*type))),
              true);
    return;
  }
  const Route& route = routes_[static_cast<size_t>(*type)];
  if (!route) {
    SendError(routing_id,
              InvalidArgumentError(std::string("this endpoint does not accept ") + MessageTypeName(*type)), true);
    return;
  }
  Peer peer{routing_id, msg.user_id, ""};
  if (auto key = HexDecode(msg.curve_key); key.ok()) peer.curve_key = std::move(*key);
  bool malformed = false;
  HandlerResult result = route(peer, payload, &malformed);
  if (!result.ok()) {
    SendError(routing_id, result.status(), malformed);
    return;
  }
  if (result->has_value()) {
    Status s = SendTo(routing_id, **result);
    if (s.ok()) replied_.fetch_add(1);
  }
}

void WireServer::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(post_mu_);
  posted_.push_back(std::move(fn));
  (void)wake_push_.Send({std::string_view("w", 1)});  // a full pipe already has a wake-up queued
}

void WireServer::RunPosted() {
  while (wake_pull_.Receive(0, 1).ok()) {
  }
  std::deque<std::function<void()>> run;
  {
    std::lock_guard<std::mutex> lock(post_mu_);
    run.swap(posted_);
  }
  for (auto& fn : run) fn();
}

void WireServer::SendError(const std::string& routing_id, const Status& status, bool malformed) {
  if (malformed) malformed_.fetch_add(1);
  ErrorReply reply;
  reply.code = static_cast<uint16_t>(status.code());
  reply.message = status.message().substr(0, kMaxErrorMessageBytes);
  CAIRN_LOG_DEBUG("wire: answering error to peer: {}", status.ToString());
  if (SendTo(routing_id, MakeOutgoing(reply)).ok()) errors_sent_.fetch_add(1);
}

Status WireServer::SendTo(const std::string& routing_id, const Outgoing& message) {
  std::string type = TypeFrame(message.type);
  Status s = socket_.Send({routing_id, type, message.payload});
  if (!s.ok()) send_dropped_.fetch_add(1);
  return s;
}

ServerStats WireServer::stats() const {
  return ServerStats{received_.load(), replied_.load(), errors_sent_.load(), malformed_.load(),
                     send_dropped_.load()};
}

}  // namespace cairn::wire
