// The per-element int8 math shared by quantize.cu and quantize_cpu.cc, so the
// GPU and the CPU produce the same bytes. Host and device both round with
// IEEE round-to-nearest-even and never contract a*b+c into an FMA (nvcc
// would by default; the __f*_rn intrinsics forbid it, and the host files are
// built with -ffp-contract=off).
#ifndef CAIRN_KERNELS_QUANTIZE_COMMON_CUH_
#define CAIRN_KERNELS_QUANTIZE_COMMON_CUH_

#include <cmath>
#include <cstdint>

#include "kernels/portable.cuh"

namespace cairn::kernels::quant {

CAIRN_HD float Mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
CAIRN_HD float Add(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
CAIRN_HD float Sub(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// Round half to even for |r| <= 2^22. On the host, adding and subtracting
// 1.5 * 2^23 rounds in the FPU's default mode and vectorises without SSE4.1;
// on the device rintf is one instruction. Both give the same result here.
CAIRN_HD float RoundEven(float r) {
#if defined(__CUDA_ARCH__)
  return rintf(r);
#else
  constexpr float kMagic = 12582912.0f;
  return (r + kMagic) - kMagic;
#endif
}

// Scale from a block's absolute maximum; NaN when the block held a
// non-finite value.
CAIRN_HD float ScaleOf(float absmax, bool finite) { return finite ? absmax / 127.0f : NAN; }

// q for v under scale s (s finite, >= 0).
CAIRN_HD float QuantizeValue(float v, float s) {
  if (!(s > 0.0f)) return 0.0f;
  float r = RoundEven(v / s);
  r = r > 127.0f ? 127.0f : r;
  r = r < -127.0f ? -127.0f : r;
  return r;
}

// q * s as the value a peer decodes; exactly 0 for q == 0 (so a NaN scale
// of a non-finite block never leaks into a residual or a sum).
CAIRN_HD float Dequantized(float q, float s) { return q == 0.0f ? 0.0f : Mul(q, s); }

}  // namespace cairn::kernels::quant

#endif  // CAIRN_KERNELS_QUANTIZE_COMMON_CUH_
