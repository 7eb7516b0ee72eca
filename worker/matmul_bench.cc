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

StatusOr<double> MeasureBf16Tflops(int index, double seconds) {
  if (!torch::cuda::is_available() || index < 0 || index >= static_cast<int>(torch::cuda::device_count())) {
    return FailedPreconditionError("CUDA device " + std::to_string(index) + " is not visible");
  }
  try {
    torch::NoGradGuard no_grad;
    const int64_t n = 4096;
    const auto opts = torch::TensorOptions().dtype(torch::kBFloat16).device(torch::Device(torch::kCUDA, index));
    auto a = torch::randn({n, n}, opts), b = torch::randn({n, n}, opts);
    torch::mm(a, b);  // warm-up: cuBLAS handle, kernel selection
    torch::cuda::synchronize(index);
    const double flops = 2.0 * n * n * static_cast<double>(n);
    double best = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) {
      const auto before = std::chrono::steady_clock::now();
      for (int k = 0; k < 8; ++k) torch::mm(a, b);
      torch::cuda::synchronize(index);
      const double one = std::chrono::duration<double>(std::chrono::steady_clock::now() - before).count() / 8;
      if (one > 0) best = std::max(best, flops / one / 1e12);
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= seconds) break;
    }
    return best;
  } catch (const std::exception& e) {
    return InternalError(std::string("LibTorch (bf16 matmul on cuda:") + std::to_string(index) + "): " + e.what());
  }
}

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace cairn::worker
