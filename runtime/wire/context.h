// WireContext: one ZeroMQ context per process, with the ZAP handler that
// admits CURVE peers (runtime/wire/zap.h) running from creation to
// destruction. Servers and clients are created against it.
//
// Thread safety: the context and its directory may be shared by all threads;
// sockets created from it are each owned by one thread. Destroy every server
// and client before the context.
#ifndef CAIRN_RUNTIME_WIRE_CONTEXT_H_
#define CAIRN_RUNTIME_WIRE_CONTEXT_H_

#include <memory>

#include "runtime/base/statusor.h"
#include "runtime/wire/zap.h"

namespace cairn::wire {

class WireContext {
 public:
  // FailedPrecondition if this libzmq was built without CURVE.
  static StatusOr<std::unique_ptr<WireContext>> Create(Enrollment mode);
  ~WireContext();
  WireContext(const WireContext&) = delete;
  WireContext& operator=(const WireContext&) = delete;

  void* raw() const { return context_; }
  PeerDirectory& directory() { return directory_; }
  const ZapHandler& zap() const { return *zap_; }

 private:
  explicit WireContext(Enrollment mode) : directory_(mode) {}
  void* context_ = nullptr;
  PeerDirectory directory_;
  std::unique_ptr<ZapHandler> zap_;
};

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_CONTEXT_H_
