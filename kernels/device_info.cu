// CUDA build of kernels/device_info.h: asks the CUDA runtime and NCCL.
#include "kernels/device_info.h"

#if defined(CAIRN_HAVE_NCCL)
#include <nccl.h>
#endif

#include "kernels/cuda_check.cuh"

namespace cairn::kernels {

bool BuiltWithCuda() { return true; }

StatusOr<std::vector<CudaDeviceInfo>> ListCudaDevices() {
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
    (void)cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return std::vector<CudaDeviceInfo>{};
  }
  CAIRN_CUDA_RETURN_IF_ERROR(err);
  std::vector<CudaDeviceInfo> out;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    CAIRN_CUDA_RETURN_IF_ERROR(cudaGetDeviceProperties(&prop, i));
    out.push_back(CudaDeviceInfo{i, prop.name, static_cast<uint64_t>(prop.totalGlobalMem), prop.multiProcessorCount,
                                 prop.major, prop.minor});
  }
  return out;
}

std::string CudaRuntimeVersion() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) return "unknown";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

std::string NcclVersion() {
#if !defined(CAIRN_HAVE_NCCL)
  return "none";  // the kernels-only GPU check may build without NCCL
#else
  int v = 0;
  if (ncclGetVersion(&v) != ncclSuccess) return "unknown";
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." + std::to_string(v % 100);
#endif
}

}  // namespace cairn::kernels
