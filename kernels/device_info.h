// What CUDA devices this process can see, for the worker's device report and
// `cairn --version`. Compiled from device_info.cu where nvcc exists and from
// device_info_nocuda.cc otherwise; both answer every function.
//
// Dependency note: kernels/ uses runtime/base (Status) and nothing else of
// runtime/, so runtime/ may depend on kernels/ without a cycle.
// Thread safety: all functions may be called from any thread.
#ifndef CAIRN_KERNELS_DEVICE_INFO_H_
#define CAIRN_KERNELS_DEVICE_INFO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::kernels {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  uint64_t memory_bytes = 0;
  int multiprocessors = 0;
  int major = 0;
  int minor = 0;
};

// True if this build compiled CUDA code (nvcc was found at configure time).
bool BuiltWithCuda();
// The visible CUDA devices; empty (OK) where the build has no CUDA, no
// driver is installed, or no device is present. Other CUDA failures are
// returned as Internal with the failing call, file and line.
StatusOr<std::vector<CudaDeviceInfo>> ListCudaDevices();
// "13.0" style versions, or "none" where not built in.
std::string CudaRuntimeVersion();
std::string NcclVersion();

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_DEVICE_INFO_H_
