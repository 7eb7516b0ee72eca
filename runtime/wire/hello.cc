#include "runtime/wire/hello.h"

#include <cstdlib>

#include "runtime/crypto/constant_time.h"
#include "runtime/crypto/x25519.h"
#include "runtime/wire/codec.h"

namespace cairn::wire {

Status SignWorkerHello(const Ed25519PrivateKey& identity, WorkerHello* hello) {
  hello->protocol_version = kProtocolVersion;
  hello->identity_key = identity.public_key().bytes();
  hello->signature.clear();
  ASSIGN_OR_RETURN(hello->signature, identity.Sign(WorkerHelloSigningBytes(*hello)));
  return OkStatus();
}

Status VerifyWorkerHello(const WorkerHello& hello, std::string_view connection_curve_key, const Clock& clock,
                         int64_t max_skew_millis) {
  if (hello.protocol_version != kProtocolVersion) {
    return FailedPreconditionError("worker speaks protocol version " + std::to_string(hello.protocol_version) +
                                   "; this coordinator speaks " + std::to_string(kProtocolVersion));
  }
  ASSIGN_OR_RETURN(Ed25519PublicKey key, Ed25519PublicKey::FromBytes(hello.identity_key));
  RETURN_IF_ERROR(key.Verify(WorkerHelloSigningBytes(hello), hello.signature));
  ASSIGN_OR_RETURN(std::string curve, X25519PublicFromEd25519Public(hello.identity_key));
  if (!ConstantTimeEquals(curve, connection_curve_key)) {
    return UnauthenticatedError("hello identity " + key.KeyId() +
                                " does not own the CURVE key of this connection");
  }
  int64_t skew = std::llabs(clock.NowUnixMillis() - hello.sent_unix_millis);
  if (skew > max_skew_millis) {
    return DeadlineExceededError("hello timestamp is " + std::to_string(skew) +
                                 " ms away from this clock (limit " + std::to_string(max_skew_millis) + ")");
  }
  return OkStatus();
}

}  // namespace cairn::wire
