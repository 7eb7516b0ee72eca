// The process group of a worker's local ranks (train/local_group.h).
#include "train/local_group.h"

#include <torch/csrc/distributed/c10d/HashStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#if defined(CAIRN_TORCH_CUDA)
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace cairn::train {

c10::intrusive_ptr<c10d::Store> MakeLocalStore() { return c10::make_intrusive<c10d::HashStore>(); }

StatusOr<c10::intrusive_ptr<c10d::Backend>> MakeLocalGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                            int size, const torch::Device& device,
                                                            std::chrono::milliseconds timeout) {
  if (size < 1 || rank < 0 || rank >= size) return InvalidArgumentError("local rank out of range");
  try {
    if (device.is_cuda()) {
#if defined(CAIRN_TORCH_CUDA)
      c10::cuda::set_device(device.index());  // NCCL binds this thread's rank to its GPU
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      return c10::intrusive_ptr<c10d::Backend>(c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts));
#else
      return FailedPreconditionError("ranks on several GPUs need NCCL: this build has no CUDA (nvcc was not found at build time)");
#endif
    }
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    return c10::intrusive_ptr<c10d::Backend>(c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, size, opts));
  } catch (const std::exception& e) {
    return UnavailableError(std::string("local process group: ") + e.what());
  }
}

torch::Device CollectiveDevice(const c10d::Backend* pg, const torch::Device& device) {
  return pg != nullptr && pg->getBackendName() == "nccl" ? device : torch::Device(torch::kCPU);
}

}  // namespace cairn::train
