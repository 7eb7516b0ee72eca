// GPU fused AdamW; design in adamw.cuh.
#include "kernels/adamw.cuh"

#include <string>

#include "kernels/adamw_common.cuh"
#include "kernels/cuda_check.cuh"

namespace cairn::kernels {
namespace {

constexpr int kThreads = 512;

struct LaunchTable {
  float* p[kAdamWMaxTensors];
  const float* g[kAdamWMaxTensors];
  float* m[kAdamWMaxTensors];
  float* v[kAdamWMaxTensors];
  int64_t n[kAdamWMaxTensors];
  uint8_t chunk_tensor[kAdamWMaxChunks];
  int32_t chunk_index[kAdamWMaxChunks];
};
static_assert(sizeof(LaunchTable) + sizeof(AdamWScalars) < 4000, "kernel parameters must stay under 4 KiB");

__global__ void __launch_bounds__(kThreads) AdamWKernel(LaunchTable table, AdamWScalars s) {
  const int t = table.chunk_tensor[blockIdx.x];
  const int64_t begin = int64_t{table.chunk_index[blockIdx.x]} * kAdamWChunk;
  const int64_t end = min(table.n[t], begin + kAdamWChunk);
  float* __restrict__ p = table.p[t];
  const float* __restrict__ g = table.g[t];
  float* __restrict__ m = table.m[t];
  float* __restrict__ v = table.v[t];
  const bool vec = ((reinterpret_cast<uintptr_t>(p) | reinterpret_cast<uintptr_t>(g) |
                     reinterpret_cast<uintptr_t>(m) | reinterpret_cast<uintptr_t>(v)) & 15u) == 0;
  int64_t i = begin + 4 * int64_t{threadIdx.x};
  if (vec) {  // begin is a multiple of 4, so every float4 here is aligned
    for (; i + 3 < end; i += 4 * kThreads) {
      float4 pp = *reinterpret_cast<float4*>(p + i);
      const float4 gg = *reinterpret_cast<const float4*>(g + i);
      float4 mm = *reinterpret_cast<float4*>(m + i);
      float4 vv = *reinterpret_cast<float4*>(v + i);
      AdamWElement(pp.x, gg.x, mm.x, vv.x, s);
      AdamWElement(pp.y, gg.y, mm.y, vv.y, s);
      AdamWElement(pp.z, gg.z, mm.z, vv.z, s);
      AdamWElement(pp.w, gg.w, mm.w, vv.w, s);
      *reinterpret_cast<float4*>(p + i) = pp;
      *reinterpret_cast<float4*>(m + i) = mm;
      *reinterpret_cast<float4*>(v + i) = vv;
    }
    // The chunk's tail (< 4 elements, only at the end of a tensor).
    const int64_t tail = begin + ((end - begin) & ~int64_t{3});
    for (int64_t j = tail + threadIdx.x; j < end; j += kThreads) AdamWElement(p[j], g[j], m[j], v[j], s);
  } else {
    for (int64_t j = begin + threadIdx.x; j < end; j += kThreads) AdamWElement(p[j], g[j], m[j], v[j], s);
  }
}

}  // namespace

Status LaunchFusedAdamW(const AdamWTensor* tensors, size_t count, const AdamWOptions& options, int64_t step,
                        cudaStream_t stream) {
  AdamWScalars s;
  RETURN_IF_ERROR(MakeAdamWScalars(options, step, &s));
  LaunchTable table{};
  int tensors_in = 0, chunks_in = 0;
  auto flush = [&]() -> Status {
    if (chunks_in > 0) {
      AdamWKernel<<<chunks_in, kThreads, 0, stream>>>(table, s);
      CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    }
    tensors_in = 0;
    chunks_in = 0;
    return OkStatus();
  };
  for (size_t k = 0; k < count; ++k) {
    const AdamWTensor& t = tensors[k];
    if (t.numel < 0) return InvalidArgumentError("adamw: tensor " + std::to_string(k) + " has numel < 0");
    if (t.numel == 0) continue;
    const int64_t chunks = (t.numel + kAdamWChunk - 1) / kAdamWChunk;
    for (int64_t c = 0; c < chunks; ++c) {
      if (c == 0 || tensors_in == 0) {  // (re)register the tensor in this launch's table
        if (tensors_in == kAdamWMaxTensors) RETURN_IF_ERROR(flush());
        table.p[tensors_in] = t.param;
        table.g[tensors_in] = t.grad;
        table.m[tensors_in] = t.exp_avg;
        table.v[tensors_in] = t.exp_avg_sq;
        table.n[tensors_in] = t.numel;
        ++tensors_in;
      }
      table.chunk_tensor[chunks_in] = static_cast<uint8_t>(tensors_in - 1);
      table.chunk_index[chunks_in] = static_cast<int32_t>(c);
      ++chunks_in;
      if (chunks_in == kAdamWMaxChunks) RETURN_IF_ERROR(flush());
    }
  }
  return flush();
}

}  // namespace cairn::kernels
