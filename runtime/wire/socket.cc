#include "runtime/wire/socket.h"

#include <cerrno>

#include <zmq.h>

#include "runtime/base/encoding.h"

// Under ThreadSanitizer: libzmq (not instrumented) writes a message's bytes
// on its I/O thread and hands them over through lock-free pipes TSan cannot
// see, so copying them out looks like a race (and checking each suppressed
// report over a multi-megabyte frame takes seconds). The copy is the
// hand-off itself; TSan is told to skip just that.
#if defined(__SANITIZE_THREAD__)
#define CAIRN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CAIRN_TSAN 1
#endif
#endif
#ifdef CAIRN_TSAN
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();
#define CAIRN_TSAN_IGNORE_BEGIN() __tsan_ignore_thread_begin()
#define CAIRN_TSAN_IGNORE_END() __tsan_ignore_thread_end()
#else
#define CAIRN_TSAN_IGNORE_BEGIN()
#define CAIRN_TSAN_IGNORE_END()
#endif

namespace cairn::wire {

Status ZmqError(const std::string& what) {
  int e = zmq_errno();
  std::string msg = what + ": " + zmq_strerror(e);
  switch (e) {
    case EAGAIN: return UnavailableError(msg);
    case ETERM: return CancelledError(msg);
    case EINVAL: return InvalidArgumentError(msg);
    case EADDRINUSE: return FailedPreconditionError(msg);
    default: return InternalError(msg);
  }
}

ZmqSocket::ZmqSocket(void* context, int type) : socket_(zmq_socket(context, type)) {
  if (socket_ != nullptr) {
    int linger = 0;
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger, sizeof(linger));
  }
}

ZmqSocket::~ZmqSocket() {
  if (socket_ != nullptr) zmq_close(socket_);
}

Status ZmqSocket::SetOption(int option, const void* value, size_t size, const char* name) {
  if (zmq_setsockopt(socket_, option, value, size) != 0) return ZmqError(std::string("zmq_setsockopt ") + name);
  return OkStatus();
}
Status ZmqSocket::SetInt(int option, int value, const char* name) {
  return SetOption(option, &value, sizeof(value), name);
}
Status ZmqSocket::SetInt64(int option, int64_t value, const char* name) {
  return SetOption(option, &value, sizeof(value), name);
}

Status ZmqSocket::Bind(const std::string& endpoint) {
  if (zmq_bind(socket_, endpoint.c_str()) != 0) return ZmqError("zmq_bind " + endpoint);
  return OkStatus();
}

Status ZmqSocket::Connect(const std::string& endpoint) {
  if (zmq_connect(socket_, endpoint.c_str()) != 0) return ZmqError("zmq_connect " + endpoint);
  return OkStatus();
}

std::string ZmqSocket::LastEndpoint() const {
  char buf[256];
  size_t size = sizeof(buf);
  if (zmq_getsockopt(socket_, ZMQ_LAST_ENDPOINT, buf, &size) != 0 || size == 0) return "";
  return std::string(buf, size - 1);  // size includes the NUL
}

Status ZmqSocket::Send(const std::vector<std::string_view>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    int flags = ZMQ_DONTWAIT | (i + 1 < frames.size() ? ZMQ_SNDMORE : 0);
    while (zmq_send(socket_, frames[i].data(), frames[i].size(), flags) < 0) {
      if (zmq_errno() == EINTR) continue;
      // Only the first frame can fail with EAGAIN: the rest of a message is
      // always accepted once its first frame was.
      return ZmqError("zmq_send");
    }
  }
  return OkStatus();
}

StatusOr<ReceivedMessage> ZmqSocket::Receive(int timeout_ms, size_t max_frames) {
  zmq_pollitem_t item{socket_, 0, ZMQ_POLLIN, 0};
  int rc;
  do {
    rc = zmq_poll(&item, 1, timeout_ms);
  } while (rc < 0 && zmq_errno() == EINTR);
  if (rc < 0) return ZmqError("zmq_poll");
  if (rc == 0) return DeadlineExceededError("no message within " + std::to_string(timeout_ms) + " ms");
  return ReadMessage(/*wait=*/true, max_frames);
}

StatusOr<ReceivedMessage> ZmqSocket::TryReceive(size_t max_frames) { return ReadMessage(/*wait=*/false, max_frames); }

StatusOr<ReceivedMessage> ZmqSocket::ReadMessage(bool wait, size_t max_frames) {
  ReceivedMessage out;
  bool more = true;
  bool first = true;
  while (more) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    int n;
    do {
      // Only the first frame may be absent; the rest of a message arrive with it.
      n = zmq_msg_recv(&msg, socket_, (first && !wait && out.frames.empty()) ? ZMQ_DONTWAIT : 0);
    } while (n < 0 && zmq_errno() == EINTR);
    if (n < 0) {
      const bool none = zmq_errno() == EAGAIN;
      zmq_msg_close(&msg);
      if (none) return DeadlineExceededError("no message waiting");
      return ZmqError("zmq_msg_recv");
    }
    // A ROUTER's routing-id frame is made locally and carries no metadata;
    // the peer's own frames carry the ZAP verdict.
    if (first) {
      const char* uid = zmq_msg_gets(&msg, "User-Id");
      if (uid != nullptr) {
        out.user_id = uid;
        if (const char* key = zmq_msg_gets(&msg, "X-Curve-Key")) out.curve_key = key;
        first = false;
      }
    }
    if (out.frames.size() < max_frames) {
      CAIRN_TSAN_IGNORE_BEGIN();
      out.frames.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
      CAIRN_TSAN_IGNORE_END();
    } else {
      ++out.dropped_frames;
    }
    more = zmq_msg_more(&msg) != 0;
    zmq_msg_close(&msg);
  }
  return out;
}

}  // namespace cairn::wire
