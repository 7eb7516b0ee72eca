#include "runtime/wire/client.h"

#include <cstring>

#include <zmq.h>

#include "runtime/base/clock.h"

namespace cairn::wire {

static_assert(ZMQ_DEALER == 5, "client.h hard-codes ZMQ_DEALER to keep zmq.h out of the header");

Status StatusFromErrorReply(const ErrorReply& e) {
  StatusCode code = StatusCodeFromInt(e.code);
  if (code == StatusCode::kOk) code = StatusCode::kUnknown;  // an error reply is never OK
  return Status(code, e.message);
}

StatusOr<std::unique_ptr<WireClient>> WireClient::Connect(WireContext* context, ClientOptions options) {
  if (options.server_public_key.size() != 32) return InvalidArgumentError("server CURVE key must be 32 bytes");
  if (options.keys.public_key.size() != 32 || options.keys.secret_key.size() != 32) {
    return InvalidArgumentError("client CURVE keys must be 32 bytes each");
  }
  std::unique_ptr<WireClient> c(new WireClient(context));
  ZmqSocket& s = c->socket_;
  if (!s.valid()) return ZmqError("zmq_socket(DEALER)");
  RETURN_IF_ERROR(s.SetOption(ZMQ_CURVE_SERVERKEY, options.server_public_key.data(), 32, "ZMQ_CURVE_SERVERKEY"));
  RETURN_IF_ERROR(s.SetOption(ZMQ_CURVE_PUBLICKEY, options.keys.public_key.data(), 32, "ZMQ_CURVE_PUBLICKEY"));
  RETURN_IF_ERROR(s.SetOption(ZMQ_CURVE_SECRETKEY, options.keys.secret_key.data(), 32, "ZMQ_CURVE_SECRETKEY"));
  RETURN_IF_ERROR(s.SetInt64(ZMQ_MAXMSGSIZE, options.max_message_bytes, "ZMQ_MAXMSGSIZE"));
  RETURN_IF_ERROR(s.SetInt(ZMQ_RECONNECT_IVL, 100, "ZMQ_RECONNECT_IVL"));
  RETURN_IF_ERROR(s.SetInt(ZMQ_RECONNECT_IVL_MAX, 5000, "ZMQ_RECONNECT_IVL_MAX"));
  // Watch the handshake so that a refusal is reported at once instead of
  // as a silent timeout.
  std::string monitor = "inproc://cairn-monitor-" + std::to_string(reinterpret_cast<uintptr_t>(c.get()));
  if (zmq_socket_monitor(s.raw(), monitor.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
    c->monitor_ = std::make_unique<ZmqSocket>(context->raw(), ZMQ_PAIR);
    if (!c->monitor_->Connect(monitor).ok()) c->monitor_.reset();
  }
  RETURN_IF_ERROR(s.Connect(options.connect));
  return c;
}

Status WireClient::CheckHandshake() {
  if (!monitor_) return OkStatus();
  for (;;) {
    auto ev = monitor_->Receive(0, 2);
    if (!ev.ok()) return OkStatus();
    if (ev->frames.empty() || ev->frames[0].size() < 6) continue;
    uint16_t event;
    uint32_t value;
    std::memcpy(&event, ev->frames[0].data(), 2);
    std::memcpy(&value, ev->frames[0].data() + 2, 4);
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
      return PermissionDeniedError("the server refused this client's key (ZAP status " + std::to_string(value) +
                                   "); is it on the server's allow-list?");
    }
    return UnauthenticatedError("the CURVE handshake with the server failed (" + std::string(zmq_strerror(static_cast<int>(value))) +
                                "); is the pinned server key right?");
  }
}

Status WireClient::Send(MessageType type, std::string_view payload) {
  std::string frame = TypeFrame(type);
  return socket_.Send({frame, payload});
}

Status WireClient::SendFrames(const std::vector<std::string>& frames) {
  std::vector<std::string_view> views(frames.begin(), frames.end());
  return socket_.Send(views);
}

StatusOr<Incoming> WireClient::Receive(int timeout_ms) {
  RETURN_IF_ERROR(CheckHandshake());
  // Wait in slices so that a handshake failure ends the wait early.
  // A negative timeout waits forever (still waking to check the handshake).
  int64_t deadline = timeout_ms < 0 ? INT64_MAX : Clock::System()->MonotonicNanos() / 1'000'000 + timeout_ms;
  int first = timeout_ms < 0 ? 100 : (monitor_ ? std::min(timeout_ms, 100) : timeout_ms);
  auto got = socket_.Receive(first, 4);
  while (!got.ok() && got.status().code() == StatusCode::kDeadlineExceeded) {
    RETURN_IF_ERROR(CheckHandshake());
    int64_t left = deadline - Clock::System()->MonotonicNanos() / 1'000'000;
    if (left <= 0) return DeadlineExceededError("no message within " + std::to_string(timeout_ms) + " ms");
    got = socket_.Receive(static_cast<int>(std::min<int64_t>(left, 100)), 4);
  }
  ASSIGN_OR_RETURN(ReceivedMessage msg, std::move(got));
  if (msg.frames.size() + msg.dropped_frames != 2) {
    return InvalidArgumentError("server sent " + std::to_string(msg.frames.size() + msg.dropped_frames) +
                                " frames; expected [type, payload]");
  }
  ASSIGN_OR_RETURN(MessageType type, ParseTypeFrame(msg.frames[0]));
  return Incoming{type, std::move(msg.frames[1])};
}

StatusOr<ClientReply> WireClient::Call(const ClientRequest& request, int timeout_ms) {
  RETURN_IF_ERROR(Send(request));
  int64_t deadline = Clock::System()->MonotonicNanos() / 1'000'000 + timeout_ms;
  for (;;) {
    int64_t left = deadline - Clock::System()->MonotonicNanos() / 1'000'000;
    if (left <= 0) return DeadlineExceededError("no reply within " + std::to_string(timeout_ms) + " ms");
    ASSIGN_OR_RETURN(Incoming in, Receive(static_cast<int>(left)));
    if (in.type == MessageType::kError) {
      ASSIGN_OR_RETURN(ErrorReply e, Decode<ErrorReply>(in.payload));
      if (e.request_id == 0 || e.request_id == request.request_id) return StatusFromErrorReply(e);
      continue;
    }
    if (in.type != MessageType::kClientReply) continue;
    ASSIGN_OR_RETURN(ClientReply reply, Decode<ClientReply>(in.payload));
    if (reply.request_id != request.request_id) continue;
    if (const auto* e = std::get_if<ErrorReply>(&reply.body)) return StatusFromErrorReply(*e);
    return reply;
  }
}

}  // namespace cairn::wire
