// WireServer: a ROUTER socket with CURVE that answers every frame.
//
// Each inbound message must follow docs/wire.md: [routing id, type frame,
// payload]. The server checks the grammar, the type, the per-type size
// limit, decodes the payload and calls the handler registered for the type.
// Whatever goes wrong (bad grammar, unknown or unhandled type, oversized or
// undecodable payload, handler error) the peer gets an ErrorReply naming the
// problem and the server carries on; malformed input is counted. Messages
// larger than `max_message_bytes` are refused by libzmq itself
// (ZMQ_MAXMSGSIZE), which drops that connection; the peer may reconnect.
//
// Thread safety: configure (On*) before Run(); Run() and SendTo() belong to
// one thread; Post(), Stop() and stats() may be called from any thread.
#ifndef CAIRN_RUNTIME_WIRE_SERVER_H_
#define CAIRN_RUNTIME_WIRE_SERVER_H_

#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/base/clock.h"
#include "runtime/wire/codec.h"
#include "runtime/wire/context.h"
#include "runtime/wire/socket.h"

namespace cairn::wire {

struct ServerOptions {
  std::string bind = "tcp://127.0.0.1:0";  // port 0: any free port
  CurveKeyPair keys;                        // the server's CURVE identity
  int64_t max_message_bytes = 4 << 20;      // ZMQ_MAXMSGSIZE per frame
  int high_water_mark = 10000;              // messages queued per peer
  const Clock* clock = Clock::System();     // times OnTick (a fake clock: ticks as it advances)
};

// Who sent a message: the ROUTER routing id of the connection and what the
// ZAP handler said about it.
struct Peer {
  std::string routing_id;
  std::string user_id;    // identity key id, or "curve:<hex>" if unbound
  std::string curve_key;  // raw 32-byte CURVE public key of the connection
};

struct Outgoing {
  MessageType type;
  std::string payload;
};
template <typename T>
Outgoing MakeOutgoing(const T& message) {
  return Outgoing{MessageTraits<T>::kType, Encode(message)};
}

// A handler's answer: a reply, nothing (no reply is sent), or an error that
// goes back to the peer as an ErrorReply.
using HandlerResult = StatusOr<std::optional<Outgoing>>;

struct ServerStats {
  uint64_t received = 0;
  uint64_t replied = 0;
  uint64_t errors_sent = 0;
  uint64_t malformed = 0;
  uint64_t send_dropped = 0;
};

class WireServer {
 public:
  static StatusOr<std::unique_ptr<WireServer>> Bind(WireContext* context, ServerOptions options);

  // Registers the handler for T (replacing any earlier one). The payload is
  // decoded first; a decode error is answered and counted as malformed.
  template <typename T>
  void On(std::function<HandlerResult(const Peer&, const T&)> handler) {
    routes_[static_cast<size_t>(MessageTraits<T>::kType)] =
        [handler = std::move(handler)](const Peer& peer, std::string_view payload, bool* malformed) -> HandlerResult {
      auto decoded = Decode<T>(payload);
      if (!decoded.ok()) {
        *malformed = true;
        return decoded.status();
      }
      return handler(peer, *decoded);
    };
  }
  // Called every `interval_ms` from the serving thread (e.g. heartbeats).
  void OnTick(int interval_ms, std::function<void()> tick);

  // Serves until Stop(); returns OK then, or the socket error that ended it.
  Status Run();
  // Handles everything that arrives within `timeout_ms`, at most one message.
  // Returns true if a message was handled.
  StatusOr<bool> ServeOnce(int timeout_ms);
  void Stop() { stopping_.store(true); }

  // Runs `fn` on the serving thread soon (it wakes Run() at once), in the
  // order posted: how other threads (a ledger commit callback) get a reply
  // or an ack sent. Never blocks; posts after Run() returned are dropped.
  void Post(std::function<void()> fn);

  // Sends to a connected peer from the serving thread.
  Status SendTo(const std::string& routing_id, const Outgoing& message);

  const std::string& endpoint() const { return endpoint_; }
  const std::string& public_key() const { return options_.keys.public_key; }
  ServerStats stats() const;

 private:
  using Route = std::function<HandlerResult(const Peer&, std::string_view, bool*)>;
  WireServer(WireContext* context, ServerOptions options);
  void Handle(const ReceivedMessage& msg);
  void SendError(const std::string& routing_id, const Status& status, bool malformed);
  void RunPosted();

  ServerOptions options_;
  ZmqSocket socket_;
  std::string endpoint_;
  std::array<Route, kMaxMessageType + 1> routes_;
  int tick_interval_ms_ = 0;
  std::function<void()> tick_;
  int64_t next_tick_ = 0;
  // Post(): a queue of closures and an inproc PUSH/PULL pair that wakes the
  // serving thread's poll. The PUSH socket is used under post_mu_ only.
  std::mutex post_mu_;
  std::deque<std::function<void()>> posted_;  // guarded by post_mu_
  ZmqSocket wake_pull_;
  ZmqSocket wake_push_;                       // guarded by post_mu_
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> received_{0}, replied_{0}, errors_sent_{0}, malformed_{0}, send_dropped_{0};
};

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_SERVER_H_
