// The per-element AdamW update shared by adamw.cu and adamw_cpu.cc; the math
// is in adamw_cpu.h. Written in the order LibTorch's AdamW rounds: decay,
// moment updates, then p - step_size * m / denom.
#ifndef CAIRN_KERNELS_ADAMW_COMMON_CUH_
#define CAIRN_KERNELS_ADAMW_COMMON_CUH_

#include <cmath>

#include "kernels/adamw_cpu.h"
#include "kernels/portable.cuh"

namespace cairn::kernels {

CAIRN_HD void AdamWElement(float& p, float g, float& m, float& v, const AdamWScalars& s) {
  p = p * s.decay;
  m = m * s.beta1 + g * s.one_minus_beta1;
  v = v * s.beta2 + (g * g) * s.one_minus_beta2;
  const float denom = sqrtf(v) / s.sqrt_bc2 + s.eps;
  p = p - s.step_size * (m / denom);
}

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_ADAMW_COMMON_CUH_
