// Fused AdamW over a list of fp32 parameter tensors: parameters, first and
// second moments updated in one pass per element. Math (Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization"; as torch::optim::AdamW computes it,
// including where it rounds), for step t >= 1:
//   p  <- p * (1 - lr * wd)                            decoupled weight decay
//   m  <- b1 * m + (1 - b1) * g
//   v  <- b2 * v + (1 - b2) * g^2
//   p  <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Bias corrections are computed in double on the host, once per step, and
// passed as fp32 scalars, as LibTorch passes its double scalars to its fp32
// kernels. Results match torch::optim::AdamW within fp32 rounding (a few
// ulps per step; the registry test bounds it).
//
// Thread safety: distinct tensor lists may be stepped concurrently.
#ifndef CAIRN_KERNELS_ADAMW_CPU_H_
#define CAIRN_KERNELS_ADAMW_CPU_H_

#include <cstdint>
#include <vector>

#include "runtime/base/status.h"

namespace cairn::kernels {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

// The fp32 scalars of one step (see the math above).
struct AdamWScalars {
  float decay;            // 1 - lr * wd
  float beta1, one_minus_beta1;
  float beta2, one_minus_beta2;
  float step_size;        // lr / (1 - b1^t)
  float sqrt_bc2;         // sqrt(1 - b2^t)
  float eps;
};

// InvalidArgument for step < 1 or options outside their ranges (lr, eps,
// wd >= 0; betas in [0, 1)).
Status MakeAdamWScalars(const AdamWOptions& options, int64_t step, AdamWScalars* out);

// One tensor's buffers: all [numel] fp32; host pointers for the CPU
// reference, device pointers for the GPU launcher.
struct AdamWTensor {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  int64_t numel = 0;
};

// Steps every tensor on up to `threads` threads (0: DefaultCpuThreads()).
Status AdamWStepCpu(const std::vector<AdamWTensor>& tensors, const AdamWOptions& options, int64_t step,
                    int threads = 0);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_ADAMW_CPU_H_
