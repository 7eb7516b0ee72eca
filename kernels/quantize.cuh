// GPU blockwise int8 quantize (with error feedback) and dequantize-accumulate;
// the math and byte format are in quantize_cpu.h, the element functions in
// quantize_common.cuh, so results equal the CPU reference bit for bit.
//
// Design: one warp per quantization block. Lanes stride through the block
// (float4/char4 at a time where the block size is a multiple of 4 and the
// pointers are aligned), the absmax and the finiteness flag are reduced with
// warp shuffles, and the second pass re-reads the block from L1/L2 rather
// than holding it in registers, so any block size works with one kernel.
// DRAM traffic is the minimum: x and r read once, q and r written once.
#ifndef CAIRN_KERNELS_QUANTIZE_CUH_
#define CAIRN_KERNELS_QUANTIZE_CUH_

#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/quantize_cpu.h"

namespace cairn::kernels {

// Device pointers; shapes as QuantizeInt8Cpu. residual may be null. Unlike
// the CPU reference this does not report non-finite blocks (that would need
// a host sync): their scales are NaN, which CheckInt8Scales and every
// receiver refuse. InvalidArgument for a bad n/block; Internal for CUDA errors.
Status LaunchQuantizeInt8(const float* x, float* residual, int64_t n, int32_t block, float* scales, int8_t* q,
                          cudaStream_t stream);
// out[i] += q[i] * scales[i / block] on the device.
Status LaunchDequantizeAccumulate(const float* scales, const int8_t* q, int64_t n, int32_t block, float* out,
                                  cudaStream_t stream);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_QUANTIZE_CUH_
