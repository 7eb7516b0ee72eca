// SHA-256 through OpenSSL 3's EVP interface: one-shot and streaming.
//
// Thread safety: Sha256Digest/Sha256 one-shot functions are safe from any
// thread. A Sha256Hasher object must not be used from two threads at once.
#ifndef CAIRN_RUNTIME_CRYPTO_SHA256_H_
#define CAIRN_RUNTIME_CRYPTO_SHA256_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace cairn {

using Sha256Digest = std::array<uint8_t, 32>;

// SHA-256 of `data`.
Sha256Digest Sha256(std::string_view data);
// The digest as a 32-byte std::string (handy for maps and wire fields).
std::string Sha256Bytes(std::string_view data);
inline std::string_view DigestView(const Sha256Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// The one parser of SHA-256 digests written as text or carried as bytes:
// 64 hex digits (either case; an optional "sha256:" prefix) or exactly 32
// raw bytes. InvalidArgument naming `what` and what was wrong otherwise.
StatusOr<Sha256Digest> DigestFromHex(std::string_view hex, std::string_view what = "digest");
StatusOr<Sha256Digest> DigestFromBytes(std::string_view raw, std::string_view what = "digest");

// Incremental hashing; Finish() returns the digest and resets the hasher so
// it can be reused for a new message.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t n);
  Sha256Digest Finish();

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_SHA256_H_
