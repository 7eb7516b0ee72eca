// Tensor fingerprint: a deterministic 256-bit digest of a list of tensors'
// bytes (the model state a worker holds), defined so that the GPU kernel
// (fingerprint.cu) and this CPU reference give the same bytes whatever the
// launch configuration or thread count. Definition (docs/kernels.md):
//
//   leaves(t)  = tensor t's bytes cut into kFingerprintLeafBytes pieces, the
//                last one shorter; an empty tensor has one empty leaf
//   leaf       = SHA-256(piece || 0x00)
//   root(t)    = Merkle tree over leaves(t), built level by level: adjacent
//                pairs hash as SHA-256(left || right || 0x01) and an odd last
//                node moves up unchanged (the RFC 6962 tree shape)
//   digest     = SHA-256("cairn-fingerprint-v1" || u64le(T) ||
//                        for each t: u64le(bytes of t) || root(t))
//
// Thread safety: all functions are pure and may run concurrently.
#ifndef CAIRN_KERNELS_FINGERPRINT_CPU_H_
#define CAIRN_KERNELS_FINGERPRINT_CPU_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::kernels {

inline constexpr uint64_t kFingerprintLeafBytes = 4096;
inline constexpr char kFingerprintDomain[] = "cairn-fingerprint-v1";

using Digest256 = std::array<uint8_t, 32>;

struct ByteSpan {
  const void* data = nullptr;
  uint64_t size = 0;
};

// Number of leaves of a tensor of `bytes` bytes (at least 1).
inline uint64_t FingerprintLeaves(uint64_t bytes) {
  return bytes == 0 ? 1 : (bytes + kFingerprintLeafBytes - 1) / kFingerprintLeafBytes;
}
// Tree height above the leaves: the number of pairing levels.
inline int FingerprintLevels(uint64_t leaves) {
  int levels = 0;
  while ((uint64_t{1} << levels) < leaves) ++levels;
  return levels;
}

// The CPU reference: leaves hashed with OpenSSL's SHA-256 (SHA-NI where the
// CPU has it) on up to `threads` threads (0: one per hardware thread).
// Builds without OpenSSL (the standalone GPU check) use the portable code.
Digest256 FingerprintCpu(const std::vector<ByteSpan>& tensors, int threads = 0);

// The same digest computed single-threaded with the portable SHA-256 of
// sha256_portable.cuh: the exact code the GPU runs, so a CPU-only build can
// test it against FingerprintCpu.
Digest256 FingerprintPortable(const std::vector<ByteSpan>& tensors);

// Lower-case hex of a digest.
std::string DigestHex(const Digest256& d);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_FINGERPRINT_CPU_H_
