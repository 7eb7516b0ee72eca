// CPU-only build of kernels/device_info.h (nvcc was not found).
#include "kernels/device_info.h"

namespace cairn::kernels {

bool BuiltWithCuda() { return false; }
StatusOr<std::vector<CudaDeviceInfo>> ListCudaDevices() { return std::vector<CudaDeviceInfo>{}; }
std::string CudaRuntimeVersion() { return "none"; }
std::string NcclVersion() { return "none"; }

}  // namespace cairn::kernels
