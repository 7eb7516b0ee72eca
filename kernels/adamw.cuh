// GPU fused AdamW (multi-tensor apply); math in adamw_cpu.h, element update
// in adamw_common.cuh.
//
// Design (after NVIDIA Apex's multi_tensor_apply): the launcher packs up to
// kAdamWMaxTensors tensors' pointers and a table of up to kAdamWMaxChunks
// (tensor, chunk) pairs into the kernel's parameter block (< 4 KiB, no
// device-side metadata to upload or keep alive), and each CUDA block updates
// one 64K-element chunk with float4 loads where all four pointers allow. One
// launch covers 320 chunks (~21M parameters), so 100M parameters in 200
// tensors take 5 launches instead of LibTorch's several kernels per tensor.
// AdamW reads p, g, m, v and writes p, m, v: 28 bytes per parameter; that
// byte count against copy bandwidth is the benchmark's figure of merit.
#ifndef CAIRN_KERNELS_ADAMW_CUH_
#define CAIRN_KERNELS_ADAMW_CUH_

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/adamw_cpu.h"

namespace cairn::kernels {

inline constexpr int kAdamWMaxTensors = 48;
inline constexpr int kAdamWMaxChunks = 320;
inline constexpr int64_t kAdamWChunk = 1 << 16;

// Steps `count` tensors whose pointers are device pointers, on `stream`.
// The tensors array may be freed on return. InvalidArgument for bad options
// or step; Internal for a CUDA failure.
Status LaunchFusedAdamW(const AdamWTensor* tensors, size_t count, const AdamWOptions& options, int64_t step,
                        cudaStream_t stream);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_ADAMW_CUH_
