// Signing and checking a WorkerHello: how a worker proves its Ed25519
// identity on a CURVE connection.
//
// The signature covers WorkerHelloSigningBytes() (codec.h). A hello is
// accepted only if the protocol version is spoken here, the signature
// verifies under identityKey, the identity's CURVE image equals the CURVE key
// the connection authenticated with (so a hello cannot be replayed over
// someone else's connection), and it was sent within `max_skew` of now.
// Thread safety: pure functions.
#ifndef CAIRN_RUNTIME_WIRE_HELLO_H_
#define CAIRN_RUNTIME_WIRE_HELLO_H_

#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/wire/messages.h"

namespace cairn::wire {

// Fills identity_key, protocol_version and signature of `hello`.
Status SignWorkerHello(const Ed25519PrivateKey& identity, WorkerHello* hello);

// OK, or: FailedPrecondition (protocol version), Unauthenticated (signature,
// CURVE key mismatch), DeadlineExceeded (clock skew beyond max_skew_millis).
Status VerifyWorkerHello(const WorkerHello& hello, std::string_view connection_curve_key, const Clock& clock,
                         int64_t max_skew_millis = 5 * 60 * 1000);

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_HELLO_H_
