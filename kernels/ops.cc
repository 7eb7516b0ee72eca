// Torch ops over cairn's kernels; contracts in ops.h.
#include "kernels/ops.h"

#include <string>

#include <ATen/ATen.h>

#if defined(CAIRN_TORCH_CUDA)
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "kernels/adamw.cuh"
#include "kernels/fingerprint.cuh"
#include "kernels/quantize.cuh"
#endif

namespace cairn::kernels {
namespace {

Status CheckFloat(const at::Tensor& t, const std::string& what, const c10::Device& device) {
  if (!t.defined()) return InvalidArgumentError(what + " is undefined");
  if (t.scalar_type() != at::kFloat) {
    return InvalidArgumentError(what + " has dtype " + std::string(c10::toString(t.scalar_type())) +
                                "; only float32 is supported");
  }
  if (!t.is_contiguous()) return InvalidArgumentError(what + " is not contiguous");
  if (t.device() != device) {
    return InvalidArgumentError(what + " is on " + t.device().str() + ", not " + device.str());
  }
  return OkStatus();
}

Status CheckDevice(const c10::Device& device) {
  if (device.is_cpu()) return OkStatus();
#if defined(CAIRN_TORCH_CUDA)
  if (device.is_cuda()) return OkStatus();
#endif
  return UnimplementedError("no cairn kernel for device " + device.str());
}

#if defined(CAIRN_TORCH_CUDA)
cudaStream_t CurrentStream(const c10::Device& device) {
  return c10::cuda::getCurrentCUDAStream(device.index()).stream();
}
#endif

}  // namespace

bool TorchOpsHaveCuda() {
#if defined(CAIRN_TORCH_CUDA)
  return true;
#else
  return false;
#endif
}

Status FusedAdamWStep(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                      const std::vector<at::Tensor>& exp_avgs, const std::vector<at::Tensor>& exp_avg_sqs,
                      const AdamWOptions& options, int64_t step) {
  if (grads.size() != params.size() || exp_avgs.size() != params.size() || exp_avg_sqs.size() != params.size()) {
    return InvalidArgumentError("adamw: " + std::to_string(params.size()) + " params but " +
                                std::to_string(grads.size()) + " grads, " + std::to_string(exp_avgs.size()) +
                                " exp_avgs, " + std::to_string(exp_avg_sqs.size()) + " exp_avg_sqs");
  }
  if (params.empty()) return OkStatus();
  const c10::Device device = params[0].device();
  RETURN_IF_ERROR(CheckDevice(device));
  std::vector<AdamWTensor> list;
  list.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const std::string n = std::to_string(i);
    RETURN_IF_ERROR(CheckFloat(params[i], "adamw: param " + n, device));
    RETURN_IF_ERROR(CheckFloat(grads[i], "adamw: grad " + n, device));
    RETURN_IF_ERROR(CheckFloat(exp_avgs[i], "adamw: exp_avg " + n, device));
    RETURN_IF_ERROR(CheckFloat(exp_avg_sqs[i], "adamw: exp_avg_sq " + n, device));
    const int64_t numel = params[i].numel();
    if (grads[i].numel() != numel || exp_avgs[i].numel() != numel || exp_avg_sqs[i].numel() != numel) {
      return InvalidArgumentError("adamw: tensor " + n + " buffers differ in size");
    }
    list.push_back(AdamWTensor{params[i].data_ptr<float>(), grads[i].data_ptr<float>(), exp_avgs[i].data_ptr<float>(),
                               exp_avg_sqs[i].data_ptr<float>(), numel});
  }
#if defined(CAIRN_TORCH_CUDA)
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device);  // launches go to the current device: make it the tensors'
    return LaunchFusedAdamW(list.data(), list.size(), options, step, CurrentStream(device));
  }
#endif
  return AdamWStepCpu(list, options, step);
}

StatusOr<at::Tensor> QuantizeInt8(const at::Tensor& x, const at::Tensor& residual, int32_t block) {
  if (!x.defined()) return InvalidArgumentError("quantize: x is undefined");
  const c10::Device device = x.device();
  RETURN_IF_ERROR(CheckDevice(device));
  RETURN_IF_ERROR(CheckFloat(x, "quantize: x", device));
  float* r = nullptr;
  if (residual.defined()) {
    RETURN_IF_ERROR(CheckFloat(residual, "quantize: residual", device));
    if (residual.numel() != x.numel()) {
      return InvalidArgumentError("quantize: residual has " + std::to_string(residual.numel()) + " values, x has " +
                                  std::to_string(x.numel()));
    }
    r = residual.data_ptr<float>();
  }
  ASSIGN_OR_RETURN(Int8Layout layout, Int8LayoutFor(x.numel(), block));
  at::Tensor header = at::empty({static_cast<int64_t>(kInt8HeaderBytes)}, at::kByte);
  WriteInt8Header(layout, header.data_ptr<uint8_t>());
  at::Tensor packed = at::empty({static_cast<int64_t>(layout.total_bytes)}, x.options().dtype(at::kByte));
  packed.narrow(0, 0, kInt8HeaderBytes).copy_(header);
  uint8_t* base = packed.data_ptr<uint8_t>();
  float* scales = reinterpret_cast<float*>(base + layout.scales_offset);
  int8_t* q = reinterpret_cast<int8_t*>(base + layout.values_offset);
#if defined(CAIRN_TORCH_CUDA)
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device);
    RETURN_IF_ERROR(LaunchQuantizeInt8(x.data_ptr<float>(), r, x.numel(), block, scales, q, CurrentStream(device)));
    // Non-finite input shows as a NaN scale; one reduction and a sync to report it.
    at::Tensor s = packed.narrow(0, layout.scales_offset, 4 * layout.blocks).view(at::kFloat);
    if (layout.blocks > 0 && !at::isfinite(s).all().item<bool>()) {
      return InvalidArgumentError("int8 quantize: the input holds a non-finite value (Inf or NaN)");
    }
    return packed;
  }
#endif
  RETURN_IF_ERROR(QuantizeInt8Cpu(x.data_ptr<float>(), r, x.numel(), block, scales, q));
  return packed;
}

Status DequantizeAccumulate(const at::Tensor& packed, at::Tensor& out) {
  if (!packed.defined() || packed.scalar_type() != at::kByte || !packed.is_contiguous() || packed.dim() != 1) {
    return InvalidArgumentError("dequantize: packed must be a defined, contiguous 1-D uint8 tensor");
  }
  if (!out.defined()) return InvalidArgumentError("dequantize: out is undefined");
  const c10::Device device = out.device();
  RETURN_IF_ERROR(CheckDevice(device));
  RETURN_IF_ERROR(CheckFloat(out, "dequantize: out", device));
  // The header and scales are checked on the host: a few bytes per 256 values.
  const int64_t header_bytes = std::min<int64_t>(packed.numel(), kInt8HeaderBytes);
  at::Tensor head = packed.narrow(0, 0, header_bytes).to(at::kCPU);
  if (header_bytes < static_cast<int64_t>(kInt8HeaderBytes)) {
    return ParseInt8Header(head.data_ptr<uint8_t>(), header_bytes).status();
  }
  // ParseInt8Header reads only the first 16 bytes; `size` is the whole buffer's.
  ASSIGN_OR_RETURN(Int8Layout layout, ParseInt8Header(head.data_ptr<uint8_t>(), static_cast<size_t>(packed.numel())));
  if (layout.count != out.numel()) {
    return InvalidArgumentError("dequantize: buffer holds " + std::to_string(layout.count) + " values, out has " +
                                std::to_string(out.numel()));
  }
  at::Tensor on_device = packed.device() == device ? packed : packed.to(device);
  // Scales are read as float32 in place: the buffer must start 4-byte aligned.
  if (reinterpret_cast<uintptr_t>(on_device.data_ptr()) % 4 != 0) on_device = on_device.clone();
  at::Tensor scales = on_device.narrow(0, layout.scales_offset, 4 * layout.blocks).view(at::kFloat);
  at::Tensor host_scales = scales.to(at::kCPU);
  RETURN_IF_ERROR(CheckInt8Scales(host_scales.data_ptr<float>(), layout.blocks));
  const int8_t* q = reinterpret_cast<const int8_t*>(on_device.data_ptr<uint8_t>() + layout.values_offset);
#if defined(CAIRN_TORCH_CUDA)
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device);
    return LaunchDequantizeAccumulate(scales.data_ptr<float>(), q, layout.count, layout.block,
                                      out.data_ptr<float>(), CurrentStream(device));
  }
#endif
  return DequantizeAccumulateCpu(scales.data_ptr<float>(), q, layout.count, layout.block, out.data_ptr<float>());
}

StatusOr<Digest256> TensorFingerprint(const std::vector<at::Tensor>& tensors) {
  std::vector<ByteSpan> spans;
  spans.reserve(tensors.size());
  c10::Device device = tensors.empty() ? c10::Device(at::kCPU) : tensors[0].device();
  RETURN_IF_ERROR(CheckDevice(device));
  for (size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor& t = tensors[i];
    const std::string what = "fingerprint: tensor " + std::to_string(i);
    if (!t.defined()) return InvalidArgumentError(what + " is undefined");
    if (!t.is_contiguous()) return InvalidArgumentError(what + " is not contiguous");
    if (t.device() != device) return InvalidArgumentError(what + " is on " + t.device().str() + ", not " + device.str());
    spans.push_back(ByteSpan{t.data_ptr(), static_cast<uint64_t>(t.numel()) * t.element_size()});
  }
#if defined(CAIRN_TORCH_CUDA)
  if (device.is_cuda()) {
    c10::cuda::CUDAGuard guard(device);
    std::vector<uint64_t> sizes;
    for (const auto& s : spans) sizes.push_back(s.size);
    const size_t ws = FingerprintWorkspaceBytes(sizes.data(), sizes.size());
    at::Tensor workspace = at::empty({static_cast<int64_t>(ws)}, at::TensorOptions().dtype(at::kByte).device(device));
    at::Tensor digest = at::empty({32}, at::TensorOptions().dtype(at::kByte).device(device));
    RETURN_IF_ERROR(LaunchFingerprint(spans.data(), spans.size(), workspace.data_ptr(), ws,
                                      digest.data_ptr<uint8_t>(), CurrentStream(device)));
    at::Tensor host = digest.to(at::kCPU);  // synchronizes with the stream
    Digest256 out;
    std::copy(host.data_ptr<uint8_t>(), host.data_ptr<uint8_t>() + 32, out.begin());
    return out;
  }
#endif
  return FingerprintCpu(spans);
}

}  // namespace cairn::kernels
