// Signed HTTP requests: how a CLI proves to the coordinator's HTTP port which
// identity (Ed25519 key = ledger account) sends an account operation
// (crediting, API keys). Header:
//   Cairn-Signature: <public key hex>.<unix millis>.<signature base64>
// over "cairn-http-v1\n" METHOD "\n" PATH "\n" MILLIS "\n" hex(SHA-256(body)).
// The verifier checks the clock skew (default 2 minutes); the caller keeps
// a replay cache of accepted signatures for that window
// (runtime/crypto/replay_cache.h verifies and remembers in one call).
// Thread safety: pure functions.
#ifndef CAIRN_RUNTIME_CRYPTO_REQUEST_SIGNATURE_H_
#define CAIRN_RUNTIME_CRYPTO_REQUEST_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"
#include "runtime/crypto/ed25519.h"

namespace cairn {

inline constexpr char kSignatureHeader[] = "Cairn-Signature";
inline constexpr int64_t kMaxRequestSkewMillis = 120'000;

StatusOr<std::string> SignRequest(const Ed25519PrivateKey& key, std::string_view method, std::string_view path,
                                  std::string_view body, int64_t unix_millis);

struct VerifiedSigner {
  std::string public_key;  // raw 32 bytes
  std::string signature;   // raw, for the replay cache
  int64_t unix_millis = 0;  // when it was signed (the header's time)
};
// Unauthenticated (naming the problem) for a missing, malformed, stale or
// wrong signature.
StatusOr<VerifiedSigner> VerifyRequest(std::string_view header, std::string_view method, std::string_view path,
                                       std::string_view body, int64_t now_unix_millis,
                                       int64_t max_skew_millis = kMaxRequestSkewMillis);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_REQUEST_SIGNATURE_H_
