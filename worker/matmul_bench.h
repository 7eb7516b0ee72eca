// A fixed LibTorch workload: the worker's self-measurement on join and the
// body of `kind: benchmark` tasks. Kept in its own file so that only this
// one translation unit includes <torch/torch.h>.
// Thread safety: may run on any thread; `cancel` is polled between steps.
#ifndef CAIRN_WORKER_MATMUL_BENCH_H_
#define CAIRN_WORKER_MATMUL_BENCH_H_

#include <atomic>
#include <functional>

#include "runtime/base/statusor.h"

namespace cairn::worker {

struct MatmulResult {
  double seconds = 0;
  double tflops = 0;   // achieved, 2*n^3 flops per multiply
  double best_tflops = 0;  // the fastest multiply's: what the machine does when nothing else runs
  uint64_t multiplies = 0;
};

// Multiplies n x n float32 matrices on the CPU (or the first CUDA device
// when `cuda` and one exists) for about `seconds`. `progress` (optional) is
// called about once a second with the result so far. Cancelled if `cancel`
// becomes true.
StatusOr<MatmulResult> RunMatmul(double seconds, int n, bool cuda, const std::atomic<bool>* cancel,
                                 const std::function<void(const MatmulResult&)>& progress = {});

// A GPU's bf16 matmul speed, as the worker advertises it: the fastest of
// n x n bf16 multiplies (n 4096) on CUDA device `index` for about
// `seconds`. FailedPrecondition where that device is not visible.
StatusOr<double> MeasureBf16Tflops(int index, double seconds);

// LibTorch's version, e.g. "2.15.0".
std::string TorchVersion();

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_MATMUL_BENCH_H_
