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
  // Each client is three sockets (its DEALER, a monitor and its PAIR): the
  // default of 1,023 would cap a process at ~340 connections.
  zmq_ctx_set(c->context_, ZMQ_MAX_SOCKETS, 16384);
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
