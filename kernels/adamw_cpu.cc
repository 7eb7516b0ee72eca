// CPU reference of fused AdamW (math in adamw_cpu.h). One pass per element
// over four streams; the inner loop has no branches and vectorises. Work is
// split across threads in 64K-element ranges of the concatenated tensors.
#include "kernels/adamw_cpu.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "kernels/adamw_common.cuh"
#include "kernels/parallel_cpu.h"

namespace cairn::kernels {
namespace {

void StepRange(const AdamWTensor& t, int64_t begin, int64_t end, const AdamWScalars& s) {
  float* __restrict p = t.param;
  const float* __restrict g = t.grad;
  float* __restrict m = t.exp_avg;
  float* __restrict v = t.exp_avg_sq;
  for (int64_t i = begin; i < end; ++i) AdamWElement(p[i], g[i], m[i], v[i], s);
}

}  // namespace

Status MakeAdamWScalars(const AdamWOptions& o, int64_t step, AdamWScalars* out) {
  if (step < 1) return InvalidArgumentError("adamw: step " + std::to_string(step) + " must be >= 1");
  if (!(o.lr >= 0) || !(o.eps >= 0) || !(o.weight_decay >= 0)) {
    return InvalidArgumentError("adamw: lr, eps and weight_decay must be >= 0");
  }
  if (!(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1)) {
    return InvalidArgumentError("adamw: betas must be in [0, 1)");
  }
  const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(step));
  const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(step));
  out->decay = static_cast<float>(1 - o.lr * o.weight_decay);
  out->beta1 = static_cast<float>(o.beta1);
  out->one_minus_beta1 = static_cast<float>(1 - o.beta1);
  out->beta2 = static_cast<float>(o.beta2);
  out->one_minus_beta2 = static_cast<float>(1 - o.beta2);
  out->step_size = static_cast<float>(o.lr / bc1);
  out->sqrt_bc2 = static_cast<float>(std::sqrt(bc2));
  out->eps = static_cast<float>(o.eps);
  return OkStatus();
}

Status AdamWStepCpu(const std::vector<AdamWTensor>& tensors, const AdamWOptions& options, int64_t step,
                    int threads) {
  AdamWScalars s;
  RETURN_IF_ERROR(MakeAdamWScalars(options, step, &s));
  constexpr int64_t kRange = 1 << 16;
  // Work items: (tensor, range start) pairs over all tensors.
  std::vector<std::pair<size_t, int64_t>> items;
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].numel < 0) return InvalidArgumentError("adamw: tensor " + std::to_string(t) + " has numel < 0");
    for (int64_t b = 0; b < tensors[t].numel; b += kRange) items.emplace_back(t, b);
  }
  ParallelFor(static_cast<int64_t>(items.size()), 4, threads, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      const AdamWTensor& t = tensors[items[k].first];
      const int64_t b = items[k].second;
      StepRange(t, b, std::min(t.numel, b + kRange), s);
    }
  });
  return OkStatus();
}

}  // namespace cairn::kernels
