// WireClient: a DEALER socket with CURVE that talks to one WireServer.
//
// The client authenticates the server by its CURVE public key (pinned by the
// caller) and itself by the CURVE keys of its identity. Sends never block:
// a full queue is Unavailable. Connection and reconnection are libzmq's
// (automatic, in the background).
//
// Thread safety: one thread at a time.
#ifndef CAIRN_RUNTIME_WIRE_CLIENT_H_
#define CAIRN_RUNTIME_WIRE_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "runtime/wire/codec.h"
#include "runtime/wire/context.h"
#include "runtime/wire/socket.h"

namespace cairn::wire {

struct ClientOptions {
  std::string connect;           // e.g. "tcp://127.0.0.1:7450"
  std::string server_public_key; // raw 32 bytes, pinned
  CurveKeyPair keys;             // this client's CURVE identity
  int64_t max_message_bytes = 4 << 20;
};

struct Incoming {
  MessageType type;
  std::string payload;
};

class WireClient {
 public:
  static StatusOr<std::unique_ptr<WireClient>> Connect(WireContext* context, ClientOptions options);

  Status Send(MessageType type, std::string_view payload);
  template <typename T>
  Status Send(const T& message) {
    return Send(MessageTraits<T>::kType, Encode(message));
  }
  // Raw frames, bypassing the grammar (tests and fuzzing).
  Status SendFrames(const std::vector<std::string>& frames);

  // The next message within `timeout_ms`: DeadlineExceeded if none came,
  // InvalidArgument if it breaks the grammar, PermissionDenied if the server
  // refused this client's key (ZAP), Unauthenticated if the CURVE handshake
  // failed (e.g. the pinned server key is wrong).
  StatusOr<Incoming> Receive(int timeout_ms);
  // Sends `request` and waits for the reply with the same request id
  // (replies to other ids are discarded). An ErrorReply from the server is
  // returned as a Status with its code and message.
  StatusOr<ClientReply> Call(const ClientRequest& request, int timeout_ms);

 private:
  WireClient(WireContext* context) : context_(context), socket_(context->raw(), 5 /* ZMQ_DEALER */) {}
  // Handshake failures reported by the socket monitor, if any.
  Status CheckHandshake();
  WireContext* context_;
  ZmqSocket socket_;
  std::unique_ptr<ZmqSocket> monitor_;  // PAIR connected to the socket's monitor
};

// An ErrorReply turned back into the Status it was made from.
Status StatusFromErrorReply(const ErrorReply& e);

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_CLIENT_H_
