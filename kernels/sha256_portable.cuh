// SHA-256 (FIPS 180-4) written once for the host and the device.
//
// The fingerprint kernel runs this code on the GPU; the host build of the same
// functions lets CI (which has no GPU) check the exact code path against
// OpenSSL. Message words are taken big-endian from the byte stream, as the
// standard says; all state lives in registers (no tables in memory other than
// the round constants, which the compiler keeps in constant memory/registers).
//
// Domain separation for the fingerprint tree (see docs/kernels.md) is by a
// one-byte SUFFIX, not a prefix, so that a leaf's data stays 4-byte aligned
// in the message and loads straight into words:
//   leaf  = SHA-256(data || 0x00)        interior = SHA-256(left || right || 0x01)
// Every leaf message ends in 0x00 and every interior message in 0x01, so no
// leaf can be mistaken for an interior node.
#ifndef CAIRN_KERNELS_SHA256_PORTABLE_CUH_
#define CAIRN_KERNELS_SHA256_PORTABLE_CUH_

#include <cstdint>
#include <cstring>

#include "kernels/portable.cuh"

namespace cairn::kernels::sha256 {

CAIRN_HD uint32_t Rotr(uint32_t x, int n) {
#if defined(__CUDA_ARCH__)
  return __funnelshift_r(x, x, n);
#else
  return (x >> n) | (x << (32 - n));
#endif
}

CAIRN_HD uint32_t LoadBigEndian(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

CAIRN_HD uint32_t ByteSwap(uint32_t x) {
#if defined(__CUDA_ARCH__)
  return __byte_perm(x, 0, 0x0123);
#else
  return __builtin_bswap32(x);
#endif
}

CAIRN_HD void Init(uint32_t h[8]) {
  h[0] = 0x6a09e667u; h[1] = 0xbb67ae85u; h[2] = 0x3c6ef372u; h[3] = 0xa54ff53au;
  h[4] = 0x510e527fu; h[5] = 0x9b05688cu; h[6] = 0x1f83d9abu; h[7] = 0x5be0cd19u;
}

// One compression of the 16 big-endian message words `w` into `h`.
CAIRN_HD void Compress(uint32_t h[8], const uint32_t w_in[16]) {
  constexpr uint32_t k[64] = {
      0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
      0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
      0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
      0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
      0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
      0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
      0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
      0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};
  uint32_t w[16];
CAIRN_UNROLL
  for (int i = 0; i < 16; ++i) w[i] = w_in[i];
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
CAIRN_UNROLL
  for (int i = 0; i < 64; ++i) {
    uint32_t wi;
    if (i < 16) {
      wi = w[i];
    } else {
      const uint32_t w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      const uint32_t s0 = Rotr(w15, 7) ^ Rotr(w15, 18) ^ (w15 >> 3);
      const uint32_t s1 = Rotr(w2, 17) ^ Rotr(w2, 19) ^ (w2 >> 10);
      wi = w[i & 15] = w[i & 15] + s0 + w[(i - 7) & 15] + s1;
    }
    const uint32_t t1 = hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + wi;
    const uint32_t t2 = (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

// Loads 64 message bytes at p into big-endian words. On the device, 16-byte
// vector loads where p is 16-byte aligned (the usual case for tensor storage).
CAIRN_HD void LoadBlock(const uint8_t* p, uint32_t w[16]) {
#if defined(__CUDA_ARCH__)
  if ((reinterpret_cast<uintptr_t>(p) & 15u) == 0) {
    const uint4* v = reinterpret_cast<const uint4*>(p);
CAIRN_UNROLL
    for (int i = 0; i < 4; ++i) {
      const uint4 q = v[i];
      w[4 * i + 0] = ByteSwap(q.x); w[4 * i + 1] = ByteSwap(q.y);
      w[4 * i + 2] = ByteSwap(q.z); w[4 * i + 3] = ByteSwap(q.w);
    }
    return;
  }
CAIRN_UNROLL
  for (int i = 0; i < 16; ++i) w[i] = LoadBigEndian(p + 4 * i);
#else
  std::memcpy(w, p, 64);
  for (int i = 0; i < 16; ++i) w[i] = ByteSwap(w[i]);
#endif
}

CAIRN_HD void StoreDigest(const uint32_t h[8], uint8_t out[32]) {
CAIRN_UNROLL
  for (int i = 0; i < 8; ++i) {
    out[4 * i + 0] = static_cast<uint8_t>(h[i] >> 24); out[4 * i + 1] = static_cast<uint8_t>(h[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(h[i] >> 8);  out[4 * i + 3] = static_cast<uint8_t>(h[i]);
  }
}

// Sets byte `pos` (0..63) of the block held as big-endian words.
CAIRN_HD void PutByte(uint32_t w[16], int pos, uint8_t byte) {
  w[pos >> 2] |= uint32_t{byte} << (24 - 8 * (pos & 3));
}

// SHA-256(data[0, len) || suffix): the leaf and interior hashes of the tree.
CAIRN_HD void HashWithSuffix(const uint8_t* data, uint64_t len, uint8_t suffix, uint8_t out[32]) {
  uint32_t h[8];
  Init(h);
  uint32_t w[16];
  uint64_t off = 0;
  for (; off + 64 <= len; off += 64) {
    LoadBlock(data + off, w);
    Compress(h, w);
  }
  // Tail: the remaining bytes, the suffix, 0x80, zeros, the 64-bit bit length.
  // A separate array: indexing it by a run-time position puts it in local
  // memory on the device, which must not happen to `w` in the loop above.
  const int rem = static_cast<int>(len - off);
  const uint64_t bits = (len + 1) * 8;
  uint32_t t[16] = {};
  for (int i = 0; i < rem; ++i) PutByte(t, i, data[off + i]);
  PutByte(t, rem, suffix);
  if (rem + 1 < 64) PutByte(t, rem + 1, 0x80);
  if (rem + 1 + 1 + 8 > 64) {  // no room for the 8-byte length: one more block
    Compress(h, t);
    for (int i = 0; i < 16; ++i) t[i] = 0;
    if (rem + 1 == 64) PutByte(t, 0, 0x80);
  }
  t[14] = static_cast<uint32_t>(bits >> 32);
  t[15] = static_cast<uint32_t>(bits);
  Compress(h, t);
  StoreDigest(h, out);
}

// SHA-256(left || right || 0x01), the interior node of the fingerprint tree.
CAIRN_HD void HashInterior(const uint8_t left[32], const uint8_t right[32], uint8_t out[32]) {
  uint32_t h[8];
  Init(h);
  uint32_t w[16];
CAIRN_UNROLL
  for (int i = 0; i < 8; ++i) {
    w[i] = LoadBigEndian(left + 4 * i);
    w[8 + i] = LoadBigEndian(right + 4 * i);
  }
  Compress(h, w);
CAIRN_UNROLL
  for (int i = 0; i < 16; ++i) w[i] = 0;
  w[0] = 0x01800000u;  // suffix 0x01, then the 0x80 pad byte
  w[15] = 65 * 8;
  Compress(h, w);
  StoreDigest(h, out);
}

}  // namespace cairn::kernels::sha256

#endif  // CAIRN_KERNELS_SHA256_PORTABLE_CUH_
