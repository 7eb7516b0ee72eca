#include "worker/matmul_bench.h"

#include <algorithm>
#include <chrono>

#include <torch/torch.h>

namespace cairn::worker {

StatusOr<MatmulResult> RunMatmul(double seconds, int n, bool cuda, const std::atomic<bool>* cancel,
                                 const std::function<void(const MatmulResult&)>& progress) {
  if (n <= 0 || seconds <= 0) return InvalidArgumentError("matmul needs a positive size and duration");
  try {
    torch::NoGradGuard no_grad;
    torch::Device device = (cuda && torch::cuda::is_available()) ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
    torch::manual_seed(0);
    auto a = torch::randn({n, n}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    auto b = torch::randn({n, n}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
    auto start = std::chrono::steady_clock::now();
    auto last_report = start;
    MatmulResult r;
    const double flops = 2.0 * n * n * static_cast<double>(n);
    for (;;) {
      const auto before = std::chrono::steady_clock::now();
      auto c = torch::mm(a, b);
      if (device.is_cuda()) torch::cuda::synchronize();
      ++r.multiplies;
      auto now = std::chrono::steady_clock::now();
      const double one = std::chrono::duration<double>(now - before).count();
      if (one > 0) r.best_tflops = std::max(r.best_tflops, flops / one / 1e12);
      r.seconds = std::chrono::duration<double>(now - start).count();
      r.tflops = 2.0 * n * n * static_cast<double>(n) * static_cast<double>(r.multiplies) / r.seconds / 1e12;
      if (progress && now - last_report >= std::chrono::seconds(1)) {
        progress(r);
        last_report = now;
      }
      if (r.seconds >= seconds) break;
      if (cancel != nullptr && cancel->load()) return CancelledError("matmul cancelled");
    }
    return r;
  } catch (const std::exception& e) {
    return InternalError(std::string("LibTorch: ") + e.what());
  }
}

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace cairn::worker
