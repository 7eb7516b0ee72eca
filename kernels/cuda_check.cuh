// One check macro for CUDA runtime and NCCL calls (cf. ggml's common.cuh):
// a failure becomes a Status naming the statement, function, file and line;
// nothing here ever exits the process (a worker must report and carry on).
#ifndef CAIRN_KERNELS_CUDA_CHECK_CUH_
#define CAIRN_KERNELS_CUDA_CHECK_CUH_

#include <string>

#include <cuda_runtime.h>

#include "runtime/base/status.h"

namespace cairn::kernels {

inline Status CudaStatus(cudaError_t err, const char* stmt, const char* func, const char* file, int line) {
  if (err == cudaSuccess) return OkStatus();
  return InternalError(std::string(stmt) + " failed in " + func + " at " + file + ":" + std::to_string(line) +
                       ": " + cudaGetErrorName(err) + " (" + cudaGetErrorString(err) + ")");
}

}  // namespace cairn::kernels

#define CAIRN_CUDA_RETURN_IF_ERROR(stmt) \
  RETURN_IF_ERROR(::cairn::kernels::CudaStatus((stmt), #stmt, __func__, __FILE__, __LINE__))

#endif  // CAIRN_KERNELS_CUDA_CHECK_CUH_
