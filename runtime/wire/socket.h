// ZmqSocket: a ZeroMQ socket owned by one thread, with multipart send and
// receive that turn errno into Status. Closes with linger 0.
//
// Thread safety: none — like the underlying zmq socket, one thread at a time.
#ifndef CAIRN_RUNTIME_WIRE_SOCKET_H_
#define CAIRN_RUNTIME_WIRE_SOCKET_H_

#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::wire {

// A received multipart message. `user_id` and `curve_key` come from the ZAP
// handler's verdict for the connection it arrived on (empty where no ZAP
// handler ran, e.g. on a client socket).
struct ReceivedMessage {
  std::vector<std::string> frames;
  size_t dropped_frames = 0;  // frames past the receive cap, read and discarded
  std::string user_id;
  std::string curve_key;  // hex of the peer's CURVE public key
};

class ZmqSocket {
 public:
  // `context` is a zmq context; `type` ZMQ_ROUTER, ZMQ_DEALER, ...
  ZmqSocket(void* context, int type);
  ~ZmqSocket();
  ZmqSocket(const ZmqSocket&) = delete;
  ZmqSocket& operator=(const ZmqSocket&) = delete;

  bool valid() const { return socket_ != nullptr; }
  Status SetOption(int option, const void* value, size_t size, const char* name);
  Status SetInt(int option, int value, const char* name);
  Status SetInt64(int option, int64_t value, const char* name);
  Status Bind(const std::string& endpoint);
  Status Connect(const std::string& endpoint);
  // The endpoint actually bound (resolves tcp port 0 to the real port).
  std::string LastEndpoint() const;

  // Sends all frames as one message without blocking; Unavailable if the
  // peer's queue is full (the message is dropped), other errors as Internal.
  Status Send(const std::vector<std::string_view>& frames);
  // Waits up to `timeout_ms` (-1: forever) for a message; DeadlineExceeded if
  // none arrived. Keeps at most `max_frames` frames, discarding the rest.
  StatusOr<ReceivedMessage> Receive(int timeout_ms, size_t max_frames = 16);
  // The next message if one is already waiting, else DeadlineExceeded at once.
  StatusOr<ReceivedMessage> TryReceive(size_t max_frames = 16);

  void* raw() const { return socket_; }

 private:
  StatusOr<ReceivedMessage> ReadMessage(bool wait, size_t max_frames);
  void* socket_ = nullptr;
};

// "zmq_bind tcp://...: Address already in use"
Status ZmqError(const std::string& what);

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_SOCKET_H_
