// GPU int8 quantize / dequantize-accumulate; design in quantize.cuh.
#include "kernels/quantize.cuh"

#include <string>

#include "kernels/cuda_check.cuh"
#include "kernels/quantize_common.cuh"

namespace cairn::kernels {
namespace {

constexpr int kWarpsPerBlock = 8;
constexpr unsigned kFull = 0xffffffffu;

bool Aligned(const void* p, unsigned a) { return p == nullptr || (reinterpret_cast<uintptr_t>(p) % a) == 0; }

template <bool kVec>
__global__ void QuantizeKernel(const float* __restrict__ x, float* __restrict__ residual, int64_t n, int32_t block,
                               int64_t blocks, float* __restrict__ scales, int8_t* __restrict__ q) {
  const int64_t b = int64_t{blockIdx.x} * kWarpsPerBlock + threadIdx.x / 32;
  if (b >= blocks) return;  // whole warps leave together
  const int lane = threadIdx.x % 32;
  const int64_t off = b * block;
  const int64_t len = n - off < block ? n - off : block;
  const int64_t len4 = kVec ? (len & ~int64_t{3}) : 0;
  float absmax = 0.0f;
  bool finite = true;
  for (int64_t i = 4 * lane; i < len4; i += 128) {
    float4 v = *reinterpret_cast<const float4*>(x + off + i);
    if (residual) {
      const float4 r = *reinterpret_cast<const float4*>(residual + off + i);
      v.x = quant::Add(v.x, r.x); v.y = quant::Add(v.y, r.y); v.z = quant::Add(v.z, r.z); v.w = quant::Add(v.w, r.w);
    }
    absmax = fmaxf(absmax, fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w))));
    finite = finite && isfinite(v.x) && isfinite(v.y) && isfinite(v.z) && isfinite(v.w);
  }
  for (int64_t i = len4 + lane; i < len; i += 32) {
    const float v = residual ? quant::Add(x[off + i], residual[off + i]) : x[off + i];
    absmax = fmaxf(absmax, fabsf(v));
    finite = finite && isfinite(v);
  }
CAIRN_UNROLL
  for (int d = 16; d > 0; d /= 2) absmax = fmaxf(absmax, __shfl_xor_sync(kFull, absmax, d));
  finite = __all_sync(kFull, finite);
  const float s = quant::ScaleOf(absmax, finite);
  if (lane == 0) scales[b] = s;

  for (int64_t i = 4 * lane; i < len4; i += 128) {
    float4 v = *reinterpret_cast<const float4*>(x + off + i);
    if (residual) {
      float4 r = *reinterpret_cast<const float4*>(residual + off + i);
      v.x = quant::Add(v.x, r.x); v.y = quant::Add(v.y, r.y); v.z = quant::Add(v.z, r.z); v.w = quant::Add(v.w, r.w);
    }
    const float4 qf = make_float4(quant::QuantizeValue(v.x, s), quant::QuantizeValue(v.y, s),
                                  quant::QuantizeValue(v.z, s), quant::QuantizeValue(v.w, s));
    *reinterpret_cast<char4*>(q + off + i) = make_char4(static_cast<signed char>(qf.x), static_cast<signed char>(qf.y),
                                                        static_cast<signed char>(qf.z), static_cast<signed char>(qf.w));
    if (residual) {
      *reinterpret_cast<float4*>(residual + off + i) =
          make_float4(quant::Sub(v.x, quant::Dequantized(qf.x, s)), quant::Sub(v.y, quant::Dequantized(qf.y, s)),
                      quant::Sub(v.z, quant::Dequantized(qf.z, s)), quant::Sub(v.w, quant::Dequantized(qf.w, s)));
    }
  }
  for (int64_t i = len4 + lane; i < len; i += 32) {
    const float v = residual ? quant::Add(x[off + i], residual[off + i]) : x[off + i];
    const float r = quant::QuantizeValue(v, s);
    q[off + i] = static_cast<int8_t>(r);
    if (residual) residual[off + i] = quant::Sub(v, quant::Dequantized(r, s));
  }
}

template <bool kVec>
__global__ void DequantizeAccumulateKernel(const float* __restrict__ scales, const int8_t* __restrict__ q, int64_t n,
                                           int32_t block, int64_t blocks, float* __restrict__ out) {
  const int64_t b = int64_t{blockIdx.x} * kWarpsPerBlock + threadIdx.x / 32;
  if (b >= blocks) return;
  const int lane = threadIdx.x % 32;
  const int64_t off = b * block;
  const int64_t len = n - off < block ? n - off : block;
  const int64_t len4 = kVec ? (len & ~int64_t{3}) : 0;
  const float s = scales[b];
  for (int64_t i = 4 * lane; i < len4; i += 128) {
    const char4 c = *reinterpret_cast<const char4*>(q + off + i);
    float4 o = *reinterpret_cast<const float4*>(out + off + i);
    o.x = quant::Add(o.x, quant::Dequantized(static_cast<float>(c.x), s));
    o.y = quant::Add(o.y, quant::Dequantized(static_cast<float>(c.y), s));
    o.z = quant::Add(o.z, quant::Dequantized(static_cast<float>(c.z), s));
    o.w = quant::Add(o.w, quant::Dequantized(static_cast<float>(c.w), s));
    *reinterpret_cast<float4*>(out + off + i) = o;
  }
  for (int64_t i = len4 + lane; i < len; i += 32) {
    out[off + i] = quant::Add(out[off + i], quant::Dequantized(static_cast<float>(q[off + i]), s));
  }
}

Status CheckGrid(int64_t blocks) {
  if ((blocks + kWarpsPerBlock - 1) / kWarpsPerBlock > 0x7fffffff) {
    return InvalidArgumentError("int8: " + std::to_string(blocks) + " blocks exceed one launch's grid");
  }
  return OkStatus();
}

unsigned GridFor(int64_t blocks) { return static_cast<unsigned>((blocks + kWarpsPerBlock - 1) / kWarpsPerBlock); }

}  // namespace

Status LaunchQuantizeInt8(const float* x, float* residual, int64_t n, int32_t block, float* scales, int8_t* q,
                          cudaStream_t stream) {
  ASSIGN_OR_RETURN(Int8Layout layout, Int8LayoutFor(n, block));
  if (layout.blocks == 0) return OkStatus();
  RETURN_IF_ERROR(CheckGrid(layout.blocks));
  const bool vec = block % 4 == 0 && Aligned(x, 16) && Aligned(residual, 16) && Aligned(q, 4);
  if (vec) {
    QuantizeKernel<true><<<GridFor(layout.blocks), 32 * kWarpsPerBlock, 0, stream>>>(x, residual, n, block,
                                                                                    layout.blocks, scales, q);
  } else {
    QuantizeKernel<false><<<GridFor(layout.blocks), 32 * kWarpsPerBlock, 0, stream>>>(x, residual, n, block,
                                                                                     layout.blocks, scales, q);
  }
  CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return OkStatus();
}

Status LaunchDequantizeAccumulate(const float* scales, const int8_t* q, int64_t n, int32_t block, float* out,
                                  cudaStream_t stream) {
  ASSIGN_OR_RETURN(Int8Layout layout, Int8LayoutFor(n, block));
  if (layout.blocks == 0) return OkStatus();
  RETURN_IF_ERROR(CheckGrid(layout.blocks));
  const bool vec = block % 4 == 0 && Aligned(q, 4) && Aligned(out, 16);
  if (vec) {
    DequantizeAccumulateKernel<true><<<GridFor(layout.blocks), 32 * kWarpsPerBlock, 0, stream>>>(
        scales, q, n, block, layout.blocks, out);
  } else {
    DequantizeAccumulateKernel<false><<<GridFor(layout.blocks), 32 * kWarpsPerBlock, 0, stream>>>(
        scales, q, n, block, layout.blocks, out);
  }
  CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return OkStatus();
}

}  // namespace cairn::kernels
