// CPU reference of the tensor fingerprint (definition in fingerprint_cpu.h).
// Work split: the leaves (almost all the bytes) are hashed in parallel over
// one global leaf index; each tensor's tree above its leaves is ~3% of the
// compressions (2 per 4 KiB leaf against 65) and is built serially.
#include "kernels/fingerprint_cpu.h"

#include <cstring>
#include <vector>

#include "kernels/parallel_cpu.h"
#include "kernels/sha256_portable.cuh"

#if defined(CAIRN_KERNELS_HAVE_OPENSSL)
#include <openssl/evp.h>
#endif

namespace cairn::kernels {
namespace {

using HashFn = void (*)(const uint8_t* a, uint64_t a_len, const uint8_t* b, uint64_t b_len, uint8_t suffix,
                        uint8_t out[32]);

// SHA-256(a || b || suffix) through the portable code (b may be empty).
void PortableHash(const uint8_t* a, uint64_t a_len, const uint8_t* b, uint64_t b_len, uint8_t suffix,
                  uint8_t out[32]) {
  if (b_len == 0) {
    sha256::HashWithSuffix(a, a_len, suffix, out);
    return;
  }
  // Only interior nodes pass two parts: both are digests.
  sha256::HashInterior(a, b, out);
}

#if defined(CAIRN_KERNELS_HAVE_OPENSSL)
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once, never freed
  return md;
}

// One context per thread, reused for every hash that thread computes.
void OpensslHash(const uint8_t* a, uint64_t a_len, const uint8_t* b, uint64_t b_len, uint8_t suffix,
                 uint8_t out[32]) {
  struct Ctx {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Ctx c;
  unsigned len = 0;
  // These calls fail only on allocation failure inside OpenSSL; a digest of
  // zeros would then fail every comparison loudly rather than pass silently.
  if (EVP_DigestInit_ex2(c.ctx, Sha256Md(), nullptr) != 1 || EVP_DigestUpdate(c.ctx, a, a_len) != 1 ||
      (b_len && EVP_DigestUpdate(c.ctx, b, b_len) != 1) || EVP_DigestUpdate(c.ctx, &suffix, 1) != 1 ||
      EVP_DigestFinal_ex(c.ctx, out, &len) != 1) {
    std::memset(out, 0, 32);
  }
}
constexpr HashFn kFastHash = OpensslHash;
#else
constexpr HashFn kFastHash = PortableHash;
#endif

void PutU64(std::vector<uint8_t>& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

Digest256 Compute(const std::vector<ByteSpan>& tensors, int threads, HashFn hash) {
  std::vector<uint64_t> first_leaf(tensors.size() + 1, 0);
  for (size_t t = 0; t < tensors.size(); ++t) first_leaf[t + 1] = first_leaf[t] + FingerprintLeaves(tensors[t].size);
  const uint64_t total = first_leaf.back();
  std::vector<Digest256> nodes(total);

  ParallelFor(static_cast<int64_t>(total), 64, threads, [&](int64_t begin, int64_t end) {
    size_t t = 0;
    for (int64_t g = begin; g < end; ++g) {
      while (first_leaf[t + 1] <= static_cast<uint64_t>(g)) ++t;
      const uint64_t j = static_cast<uint64_t>(g) - first_leaf[t];
      const uint64_t off = j * kFingerprintLeafBytes;
      const uint64_t len = std::min(kFingerprintLeafBytes, tensors[t].size - off);
      hash(static_cast<const uint8_t*>(tensors[t].data) + off, tensors[t].size == 0 ? 0 : len, nullptr, 0, 0x00,
           nodes[g].data());
    }
  });

  std::vector<uint8_t> top(kFingerprintDomain, kFingerprintDomain + sizeof(kFingerprintDomain) - 1);
  PutU64(top, tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t) {
    Digest256* level = nodes.data() + first_leaf[t];
    uint64_t count = first_leaf[t + 1] - first_leaf[t];
    while (count > 1) {  // in place: node i reads 2i and 2i+1, which are >= i
      const uint64_t pairs = count / 2;
      for (uint64_t i = 0; i < pairs; ++i) {
        Digest256 out;
        hash(level[2 * i].data(), 32, level[2 * i + 1].data(), 32, 0x01, out.data());
        level[i] = out;
      }
      if (count & 1) level[pairs] = level[count - 1];
      count = pairs + (count & 1);
    }
    PutU64(top, tensors[t].size);
    top.insert(top.end(), level[0].begin(), level[0].end());
  }
  // The top hash is plain SHA-256 (no suffix): hash all but the last byte and
  // pass that byte as the suffix.
  Digest256 digest;
  hash(top.data(), top.size() - 1, nullptr, 0, top.back(), digest.data());
  return digest;
}

}  // namespace

Digest256 FingerprintCpu(const std::vector<ByteSpan>& tensors, int threads) {
  return Compute(tensors, threads, kFastHash);
}

Digest256 FingerprintPortable(const std::vector<ByteSpan>& tensors) { return Compute(tensors, 1, PortableHash); }

std::string DigestHex(const Digest256& d) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : d) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
}

}  // namespace cairn::kernels
