// The training device (train/train_device.h).
#include "train/train_device.h"

#include <cstdlib>
#include <mutex>

#include <ATen/autocast_mode.h>

#include "kernels/device_info.h"
#include "train/profile.h"

namespace cairn::train {

StatusOr<torch::Device> PrepareDevice(const TrainConfig& cfg, int index) {
  if (cfg.device != jobspec::Device::kCuda) return torch::Device(torch::kCPU);
  if (!kernels::BuiltWithCuda()) {
    return FailedPreconditionError("the job trains on cuda, but this worker was built without CUDA (no nvcc at build time)");
  }
  if (!torch::cuda::is_available()) {
    return FailedPreconditionError("the job trains on cuda, but no CUDA device is visible to this worker");
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index < 0 || index >= count) {
    return FailedPreconditionError("CUDA device " + std::to_string(index) + " asked for; this worker sees " +
                                   std::to_string(count));
  }
  auto& ctx = at::globalContext();
  if (cfg.deterministic) {
    ctx.setDeterministicCuDNN(true);
    ctx.setBenchmarkCuDNN(false);
    ctx.setAllowTF32CuBLAS(false);
    ctx.setAllowTF32CuDNN(false);
    ctx.setFloat32MatmulPrecision("highest");
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

std::string DeviceProfile(const torch::Device& device) {
  if (!device.is_cuda()) return "cpu";
  auto gpus = kernels::ListCudaDevices();
  const int i = device.has_index() ? device.index() : 0;
  if (!gpus.ok() || i >= static_cast<int>(gpus->size())) return "cuda:unknown";
  const auto& g = (*gpus)[static_cast<size_t>(i)];
  return CudaDeviceProfile(g.name.substr(0, 120), std::to_string(g.major) + "." + std::to_string(g.minor));
}

void SeedRound(const torch::Device& device, uint64_t seed) {
  if (!device.is_cuda()) {
    torch::manual_seed(seed);
    return;
  }
  auto gen = at::globalContext().defaultGenerator(device);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}

AutocastScope::AutocastScope(const torch::Device& device, bool on) : on_(on && device.is_cuda()) {
  if (!on_) return;
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!on_) return;
  // The outermost scope drops autocast's cast cache (as torch.autocast does).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(at::kCUDA, false);
}

}  // namespace cairn::train
