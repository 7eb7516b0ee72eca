// Torch ops over cairn's kernels: each checks its tensors and dispatches on
// their device, to the CUDA launcher (builds against a CUDA LibTorch, on the
// current CUDA stream) or to the CPU reference. Tensors must be contiguous;
// non-contiguous ones are refused with InvalidArgument rather than copied, so
// no op silently doubles its memory traffic.
//
// This header pulls in ATen's Tensor class only (not <torch/torch.h>).
// Thread safety: ops on disjoint tensors may run concurrently.
#ifndef CAIRN_KERNELS_OPS_H_
#define CAIRN_KERNELS_OPS_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "kernels/adamw_cpu.h"
#include "kernels/fingerprint_cpu.h"
#include "kernels/quantize_cpu.h"
#include "runtime/base/statusor.h"

namespace cairn::kernels {

// True where this build's LibTorch can hand cairn a CUDA tensor and stream.
bool TorchOpsHaveCuda();

// One fused AdamW step (t = step >= 1) over parallel lists of fp32 tensors on
// one device; the same shapes pairwise.
Status FusedAdamWStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                      const std::vector<at::Tensor>& exp_avgs, const std::vector<at::Tensor>& exp_avg_sqs,
                      const AdamWOptions& options, int64_t step);

// Quantizes fp32 `x` (any shape, flattened) into a packed uint8 buffer on
// x's device (format in quantize_cpu.h). `residual`, when defined, is x's
// shape and is read and updated (error feedback). Non-finite input gives
// InvalidArgument.
StatusOr<at::Tensor> QuantizeInt8(const at::Tensor& x, const at::Tensor& residual, int32_t block = kDefaultQuantBlock);

// out += dequantize(packed), flattened; packed is a uint8 buffer, on any
// device, as received from a peer: its header and scales are checked first
// (InvalidArgument naming the problem), and its count must equal out.numel().
Status DequantizeAccumulate(const at::Tensor& packed, at::Tensor& out);

// The fingerprint of the tensors' bytes (definition in fingerprint_cpu.h),
// computed on their device; every tensor on one device.
StatusOr<Digest256> TensorFingerprint(const std::vector<at::Tensor>& tensors);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_OPS_H_
