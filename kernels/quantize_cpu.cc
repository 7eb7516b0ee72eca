// CPU reference of blockwise int8 quantization with error feedback (math in
// quantize_cpu.h, shared element functions in quantize_common.cuh). Each
// block is two vectorisable passes over at most `block` values (which stay
// in L1): absmax and a finiteness check, then quantize and residual. Blocks
// are independent, so large inputs split across threads by block.
#include "kernels/quantize_cpu.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <string>

#include "kernels/parallel_cpu.h"
#include "kernels/quantize_common.cuh"

namespace cairn::kernels {
namespace {

constexpr uint8_t kMagic[4] = {'C', 'Q', '8', 0x01};
constexpr int64_t kGrainValues = 1 << 18;  // 1 MiB of fp32 per thread at least

// |v| as its bit pattern: for non-negative floats, integer order is value
// order, and Inf/NaN are exactly the patterns >= 0x7f800000. So one integer
// max (which vectorises, unlike a float max or a NaN-propagating sum) gives
// both the absmax and the finiteness of the block.
inline int32_t AbsBits(float v) {
  int32_t b;
  std::memcpy(&b, &v, 4);
  return b & 0x7fffffff;
}

__attribute__((target_clones("avx2", "default"))) void QuantizeBlock(const float* __restrict x, float* __restrict residual, int64_t len, float* scale,
                   int8_t* __restrict q, bool* finite_out) {
  int32_t max_bits = 0;
  if (residual) {
    for (int64_t i = 0; i < len; ++i) max_bits = std::max(max_bits, AbsBits(x[i] + residual[i]));
  } else {
    for (int64_t i = 0; i < len; ++i) max_bits = std::max(max_bits, AbsBits(x[i]));
  }
  float absmax;
  std::memcpy(&absmax, &max_bits, 4);
  const bool finite = max_bits < 0x7f800000;
  const float s = quant::ScaleOf(absmax, finite);
  *scale = s;
  *finite_out = finite;
  if (!(s > 0.0f)) {  // all zeros, or a non-finite block: q = 0 and v stays in the residual
    for (int64_t i = 0; i < len; ++i) {
      q[i] = 0;
      if (residual) residual[i] = x[i] + residual[i];
    }
    return;
  }
  // quant::QuantizeValue and quant::Dequantized with the loop-invariant
  // s > 0 test hoisted, so the loops have no control flow and vectorise.
  if (residual) {
    for (int64_t i = 0; i < len; ++i) {
      const float v = x[i] + residual[i];
      const float r = std::min(127.0f, std::max(-127.0f, quant::RoundEven(v / s)));
      q[i] = static_cast<int8_t>(r);
      // r * s + 0 is r * s, except that a -0 product becomes +0, as
      // quant::Dequantized gives for r == 0 (s is finite here): branch-free.
      residual[i] = v - (r * s + 0.0f);
    }
  } else {
    for (int64_t i = 0; i < len; ++i) q[i] = static_cast<int8_t>(std::min(127.0f, std::max(-127.0f, quant::RoundEven(x[i] / s))));
  }
}

}  // namespace

StatusOr<Int8Layout> Int8LayoutFor(int64_t count, int32_t block) {
  if (count < 0) return InvalidArgumentError("int8 layout: count " + std::to_string(count) + " is negative");
  if (block < 1 || block > kMaxQuantBlock) {
    return InvalidArgumentError("int8 layout: block " + std::to_string(block) + " is outside [1, " +
                                std::to_string(kMaxQuantBlock) + "]");
  }
  Int8Layout l;
  l.count = count;
  l.block = block;
  l.blocks = (count + block - 1) / block;
  l.values_offset = kInt8HeaderBytes + 4 * static_cast<size_t>(l.blocks);
  l.total_bytes = l.values_offset + static_cast<size_t>(count);
  return l;
}

void WriteInt8Header(const Int8Layout& layout, uint8_t* out) {
  std::memcpy(out, kMagic, 4);
  const uint32_t block = static_cast<uint32_t>(layout.block);
  const uint64_t count = static_cast<uint64_t>(layout.count);
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(block >> (8 * i));
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<uint8_t>(count >> (8 * i));
}

StatusOr<Int8Layout> ParseInt8Header(const uint8_t* data, size_t size) {
  if (size < kInt8HeaderBytes) {
    return InvalidArgumentError("int8 buffer: " + std::to_string(size) + " bytes is shorter than the 16-byte header");
  }
  if (std::memcmp(data, kMagic, 3) != 0) return InvalidArgumentError("int8 buffer: bad magic (want \"CQ8\")");
  if (data[3] != kMagic[3]) {
    return InvalidArgumentError("int8 buffer: version " + std::to_string(data[3]) + " is not supported (want 1)");
  }
  uint32_t block = 0;
  uint64_t count = 0;
  for (int i = 0; i < 4; ++i) block |= uint32_t{data[4 + i]} << (8 * i);
  for (int i = 0; i < 8; ++i) count |= uint64_t{data[8 + i]} << (8 * i);
  if (block < 1 || block > static_cast<uint32_t>(kMaxQuantBlock)) {
    return InvalidArgumentError("int8 buffer: block " + std::to_string(block) + " is outside [1, " +
                                std::to_string(kMaxQuantBlock) + "]");
  }
  // count <= size bounds every product below against overflow.
  if (count > size) {
    return InvalidArgumentError("int8 buffer: count " + std::to_string(count) + " does not fit in " +
                                std::to_string(size) + " bytes");
  }
  ASSIGN_OR_RETURN(Int8Layout l, Int8LayoutFor(static_cast<int64_t>(count), static_cast<int32_t>(block)));
  if (l.total_bytes != size) {
    return InvalidArgumentError("int8 buffer: size " + std::to_string(size) + " does not match count " +
                                std::to_string(count) + " and block " + std::to_string(block) + " (want " +
                                std::to_string(l.total_bytes) + ")");
  }
  return l;
}

Status CheckInt8Scales(const float* scales, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b) {
    if (!std::isfinite(scales[b]) || scales[b] < 0.0f) {
      return InvalidArgumentError("int8 buffer: scale of block " + std::to_string(b) + " is " +
                                  std::to_string(scales[b]) + " (must be finite and >= 0)");
    }
  }
  return OkStatus();
}

Status QuantizeInt8Cpu(const float* x, float* residual, int64_t n, int32_t block, float* scales, int8_t* q,
                       int threads) {
  ASSIGN_OR_RETURN(Int8Layout layout, Int8LayoutFor(n, block));
  std::atomic<int64_t> first_bad{layout.blocks};
  const int64_t grain = std::max<int64_t>(1, kGrainValues / block);
  ParallelFor(layout.blocks, grain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t off = b * block, len = std::min<int64_t>(block, n - off);
      bool finite = true;
      QuantizeBlock(x + off, residual ? residual + off : nullptr, len, scales + b, q + off, &finite);
      if (!finite) {
        int64_t cur = first_bad.load();
        while (b < cur && !first_bad.compare_exchange_weak(cur, b)) {
        }
      }
    }
  });
  if (first_bad.load() < layout.blocks) {
    return InvalidArgumentError("int8 quantize: block " + std::to_string(first_bad.load()) +
                                " holds a non-finite value (Inf or NaN); its scale is NaN and its values 0");
  }
  return OkStatus();
}

Status DequantizeAccumulateCpu(const float* scales, const int8_t* q, int64_t n, int32_t block, float* out,
                               int threads) {
  ASSIGN_OR_RETURN(Int8Layout layout, Int8LayoutFor(n, block));
  const int64_t grain = std::max<int64_t>(1, kGrainValues / block);
  ParallelFor(layout.blocks, grain, threads, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      const int64_t off = b * block, len = std::min<int64_t>(block, n - off);
      const float s = scales[b];
      const int8_t* __restrict qb = q + off;
      float* __restrict ob = out + off;
      for (int64_t i = 0; i < len; ++i) ob[i] = quant::Add(ob[i], quant::Dequantized(static_cast<float>(qb[i]), s));
    }
  });
  return OkStatus();
}

}  // namespace cairn::kernels
