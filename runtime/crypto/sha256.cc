#include "runtime/crypto/sha256.h"

#include <algorithm>

#include "runtime/base/encoding.h"

#include <cstdio>
#include <cstdlib>

#include <openssl/evp.h>

namespace cairn {
namespace {

// Fetched once: EVP_sha256() would re-resolve the provider on every init.
const EVP_MD* Md() {
  static const EVP_MD* const kMd = [] {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (md == nullptr) {
      std::fprintf(stderr, "cairn: OpenSSL has no SHA256 implementation\n");
      std::abort();
    }
    return md;
  }();
  return kMd;
}

void MustInit(EVP_MD_CTX* ctx) {
  if (ctx == nullptr || EVP_DigestInit_ex2(ctx, Md(), nullptr) != 1) {
    std::fprintf(stderr, "cairn: EVP_DigestInit_ex2(SHA256) failed\n");
    std::abort();  // only on allocation failure inside OpenSSL
  }
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  thread_local Sha256Hasher hasher;  // reuses one EVP_MD_CTX per thread
  hasher.Update(data);
  return hasher.Finish();
}

std::string Sha256Bytes(std::string_view data) {
  Sha256Digest d = Sha256(data);
  return std::string(DigestView(d));
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) { MustInit(ctx_); }
Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

void Sha256Hasher::Update(std::string_view data) { Update(data.data(), data.size()); }
void Sha256Hasher::Update(const void* data, size_t n) {
  if (n > 0) EVP_DigestUpdate(ctx_, data, n);
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, d.data(), &len);
  MustInit(ctx_);
  return d;
}

StatusOr<Sha256Digest> DigestFromBytes(std::string_view raw, std::string_view what) {
  if (raw.size() != 32) {
    return InvalidArgumentError(std::string(what) + ": a SHA-256 digest is 32 bytes, got " + std::to_string(raw.size()));
  }
  Sha256Digest d;
  std::copy(raw.begin(), raw.end(), reinterpret_cast<char*>(d.data()));
  return d;
}

StatusOr<Sha256Digest> DigestFromHex(std::string_view hex, std::string_view what) {
  if (hex.substr(0, 7) == "sha256:") hex.remove_prefix(7);
  auto raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgumentError(std::string(what) + ": expected a SHA-256 digest (64 hex digits), got '" +
                                std::string(hex.substr(0, 80)) + "'");
  }
  return DigestFromBytes(*raw, what);
}

}  // namespace cairn
