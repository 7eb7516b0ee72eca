// The CURVE (X25519) keys that belong to an Ed25519 identity.
//
// ZeroMQ's CURVE transport authenticates peers by X25519 keys. cairn derives
// them from the Ed25519 identity so that one key file is one identity on both
// the bus and the ledger, and so that a peer's CURVE key can be computed from
// its Ed25519 public key alone (for allow-lists):
//   secret: clamp(SHA-512(seed)[0..32])   (the Ed25519 signing scalar;
//           libsodium's crypto_sign_ed25519_sk_to_curve25519)
//   public: u = (1 + y) / (1 - y) mod 2^255-19, from the Edwards point's y
//           (the birational map of RFC 7748 section 4.1;
//           libsodium's crypto_sign_ed25519_pk_to_curve25519)
// Both are 32 raw bytes; ZeroMQ also accepts their 40-character Z85 text.
// Thread safety: pure functions.
#ifndef CAIRN_RUNTIME_CRYPTO_X25519_H_
#define CAIRN_RUNTIME_CRYPTO_X25519_H_

#include <string>
#include <string_view>

#include "runtime/base/statusor.h"

namespace cairn {

inline constexpr size_t kX25519KeySize = 32;

// The X25519 secret for an Ed25519 seed (32 bytes in, 32 bytes out).
StatusOr<std::string> X25519SecretFromEd25519Seed(std::string_view seed);
// The X25519 public key for an X25519 secret (scalar multiplication).
StatusOr<std::string> X25519PublicFromSecret(std::string_view secret);
// The X25519 public key of an Ed25519 public key. InvalidArgument if the key
// is not 32 bytes or encodes y = 1 (the identity point, which has no image).
StatusOr<std::string> X25519PublicFromEd25519Public(std::string_view ed25519_public);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_X25519_H_
