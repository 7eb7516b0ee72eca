#include "runtime/wire/context.h"

#include <zmq.h>

namespace cairn::wire {

StatusOr<std::unique_ptr<WireContext>> WireContext::Create(Enrollment mode) {
  if (!zmq_has("curve")) {
    return FailedPreconditionError("this libzmq was built without CURVE support; cairn requires it");
  }
  std::unique_ptr<WireContext> c(new WireContext(mode));
  c->context_ = zmq_ctx_new();
  if (c->context_ == nullptr) return InternalError("zmq_ctx_new failed");
  auto zap = ZapHandler::Start(c->context_, &c->directory_);
  if (!zap.ok()) return zap.status();
  c->zap_ = std::move(zap).value();
  return c;
}

WireContext::~WireContext() {
  if (context_ == nullptr) return;
  zmq_ctx_shutdown(context_);  // wakes the ZAP thread with ETERM
  zap_.reset();                // joins it; it closes its socket
  zmq_ctx_term(context_);
}

}  // namespace cairn::wire
