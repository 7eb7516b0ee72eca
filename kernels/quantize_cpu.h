// Blockwise int8 quantization with error feedback, for the pseudo-gradients
// DiLoCo workers exchange over the wide-area network.
//
// Math, per block b of `block` consecutive values (the last may be shorter):
//   v_i     = x_i + r_i                   (r: the residual carried from the
//                                          previous round; zero without one)
//   s_b     = max_i |v_i| / 127           (fp32; NaN if any v_i is not finite)
//   q_i     = round_half_even(v_i / s_b)  (0 where s_b == 0), in [-127, 127]
//   r_i    <- v_i - q_i * s_b             (the error fed into the next round)
// Dequantize-and-accumulate, for the reduction of peers' buffers:
//   out_i  <- out_i + q_i * s_b           (fp32)
// Bit-exactness between CPU and GPU holds for finite inputs; in a block with
// an Inf or NaN both give scale NaN and q = 0, but residual NaNs may differ
// in their payload bits (x86 keeps an operand's NaN, CUDA writes 0x7fffffff).
// -128 is never produced, so the code is symmetric; a received -128 is still
// decoded (it is only a value), so decoding never fails on q.
//
// The packed byte format (docs/kernels.md) that crosses the network is
//   "CQ8" 0x01 | u32le block | u64le count | f32le scale[blocks] | i8 q[count]
// with blocks = ceil(count / block). ParseInt8Header checks it.
//
// Thread safety: functions are pure; calls on disjoint buffers may run
// concurrently.
#ifndef CAIRN_KERNELS_QUANTIZE_CPU_H_
#define CAIRN_KERNELS_QUANTIZE_CPU_H_

#include <cstddef>
#include <cstdint>

#include "runtime/base/statusor.h"

namespace cairn::kernels {

inline constexpr int32_t kDefaultQuantBlock = 256;
inline constexpr int32_t kMaxQuantBlock = 1 << 20;
inline constexpr size_t kInt8HeaderBytes = 16;

struct Int8Layout {
  int64_t count = 0;      // values
  int32_t block = 0;      // values per scale
  int64_t blocks = 0;     // scales
  size_t scales_offset = kInt8HeaderBytes;
  size_t values_offset = 0;
  size_t total_bytes = 0;
};

// The layout for `count` values in blocks of `block`; InvalidArgument for a
// negative count or a block outside [1, kMaxQuantBlock].
StatusOr<Int8Layout> Int8LayoutFor(int64_t count, int32_t block);
// Writes the 16-byte header of `layout` to out.
void WriteInt8Header(const Int8Layout& layout, uint8_t* out);
// Parses and checks a received buffer's header against its size (reads only
// the first min(size, 16) bytes of data): bad magic,
// unknown version, block out of range or a size that does not match give
// InvalidArgument naming the field.
StatusOr<Int8Layout> ParseInt8Header(const uint8_t* data, size_t size);
// Checks the scales of a received buffer: each must be finite and >= 0.
Status CheckInt8Scales(const float* scales, int64_t blocks);

// x, residual: [n] fp32 (residual may be null: no error feedback; else it is
// read and overwritten). scales: [ceil(n / block)], q: [n]. A block holding a
// non-finite value gets scale NaN and q = 0, and the call then returns
// InvalidArgument naming the first such block (everything is still written).
Status QuantizeInt8Cpu(const float* x, float* residual, int64_t n, int32_t block, float* scales, int8_t* q,
                       int threads = 0);
// out[i] += q[i] * scales[i / block] for i in [0, n).
Status DequantizeAccumulateCpu(const float* scales, const int8_t* q, int64_t n, int32_t block, float* out,
                               int threads = 0);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_QUANTIZE_CPU_H_
