// GPU kernel benchmark: each kernel's achieved bandwidth (bytes it must read
// plus write, over its median time from CUDA events) against this device's
// device-to-device copy bandwidth measured in the same run, and the fused
// AdamW against LibTorch's torch::optim::AdamW step on the same ~100M
// parameters in 200 tensors (where LibTorch has CUDA). Prints a table last.
// Inputs are 1 GiB or more, far past L2, and random (never zeros).
//   build-gpu/bench/kernels/kernels_gpu_bench
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime.h>

#include "kernels/adamw.cuh"
#include "kernels/device_info.h"
#include "kernels/fingerprint.cuh"
#include "kernels/quantize.cuh"

#if defined(CAIRN_TORCH_CUDA)
#include <torch/torch.h>
#endif

namespace cairn::kernels {
namespace {

#define CHECK_CUDA(x)                                                                                  \
  do {                                                                                                 \
    cudaError_t e = (x);                                                                               \
    if (e != cudaSuccess) {                                                                            \
      std::fprintf(stderr, "%s failed at %s:%d: %s\n", #x, __FILE__, __LINE__, cudaGetErrorString(e)); \
      std::exit(1);                                                                                    \
    }                                                                                                  \
  } while (0)

#define CHECK_OK(x)                                                           \
  do {                                                                        \
    cairn::Status s = (x);                                                         \
    if (!s.ok()) {                                                            \
      std::fprintf(stderr, "%s failed: %s\n", #x, s.ToString().c_str());      \
      std::exit(1);                                                           \
    }                                                                         \
  } while (0)

// Median milliseconds of `reps` runs of fn after `warm` warm-up runs.
double MedianMs(const std::function<void()>& fn, int warm = 3, int reps = 20) {
  for (int i = 0; i < warm; ++i) fn();
  CHECK_CUDA(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  std::vector<float> ms;
  for (int i = 0; i < reps; ++i) {
    CHECK_CUDA(cudaEventRecord(a));
    fn();
    CHECK_CUDA(cudaEventRecord(b));
    CHECK_CUDA(cudaEventSynchronize(b));
    float t = 0;
    CHECK_CUDA(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  CHECK_CUDA(cudaGetLastError());
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

// n random normals on the device; |x| where `nonnegative` (second moments).
float* RandomDevice(int64_t n, float scale, uint64_t seed, bool nonnegative = false) {
  std::vector<float> h(n);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0, scale);
  for (auto& x : h) x = nonnegative ? std::fabs(d(rng)) : d(rng);
  float* p = nullptr;
  CHECK_CUDA(cudaMalloc(&p, n * 4));
  CHECK_CUDA(cudaMemcpy(p, h.data(), n * 4, cudaMemcpyHostToDevice));
  return p;
}

struct Row {
  std::string name;
  double ms;
  double bytes;
  std::string note;
};

}  // namespace
}  // namespace cairn::kernels

int main() {
  using namespace cairn::kernels;
  auto devices = ListCudaDevices();
  if (!devices.ok() || devices->empty()) {
    std::printf("kernels_gpu_bench: no CUDA device visible; nothing to measure\n");
    return 0;
  }
  std::printf("device: %s, %d SMs\n", (*devices)[0].name.c_str(), (*devices)[0].multiprocessors);
  std::vector<Row> rows;

  // Copy bandwidth: 1 GiB device to device, bytes read + written.
  const int64_t kCopy = int64_t{1} << 30;
  void *src = nullptr, *dst = nullptr;
  CHECK_CUDA(cudaMalloc(&src, kCopy));
  CHECK_CUDA(cudaMalloc(&dst, kCopy));
  {  // random bytes, never a constant (it can time differently than real data)
    float* r = RandomDevice(kCopy / 4, 1, 99);
    CHECK_CUDA(cudaMemcpy(src, r, kCopy, cudaMemcpyDeviceToDevice));
    CHECK_CUDA(cudaFree(r));
  }
  const double copy_ms = MedianMs([&] { CHECK_CUDA(cudaMemcpyAsync(dst, src, kCopy, cudaMemcpyDeviceToDevice)); });
  const double copy_gbs = 2.0 * kCopy / copy_ms / 1e6;
  rows.push_back({"copy (baseline)", copy_ms, 2.0 * kCopy, ""});
  CHECK_CUDA(cudaFree(dst));

  // AdamW: 200 tensors, ~100M parameters.
  std::vector<int64_t> sizes;
  for (int i = 0; i < 200; ++i) sizes.push_back(400000 + (i * 7919) % 200000 + (i % 3));
  int64_t params = 0;
  std::vector<AdamWTensor> tensors;
  for (size_t i = 0; i < sizes.size(); ++i) {
    params += sizes[i];
    tensors.push_back(AdamWTensor{RandomDevice(sizes[i], 1, 4 * i), RandomDevice(sizes[i], 1, 4 * i + 1),
                                  RandomDevice(sizes[i], 0.1f, 4 * i + 2), RandomDevice(sizes[i], 0.1f, 4 * i + 3, true),
                                  sizes[i]});
  }
  int64_t step = 1;
  const double adamw_ms = MedianMs([&] { CHECK_OK(LaunchFusedAdamW(tensors.data(), tensors.size(), AdamWOptions{}, step++, nullptr)); });
  rows.push_back({"fused adamw", adamw_ms, 28.0 * params, std::to_string(params / 1000000) + "M params, 200 tensors"});
#if defined(CAIRN_TORCH_CUDA)
  {
    std::vector<torch::Tensor> ps;
    for (int64_t n : sizes) {
      auto p = torch::randn({n}, torch::TensorOptions().device(torch::kCUDA)).set_requires_grad(true);
      p.mutable_grad() = torch::randn_like(p);
      ps.push_back(p);
    }
    torch::optim::AdamW opt(ps, torch::optim::AdamWOptions(1e-3));
    const double torch_ms = MedianMs([&] { opt.step(); });
    rows.push_back({"torch::optim::AdamW", torch_ms, 28.0 * params,
                    "fused is " + std::to_string(torch_ms / adamw_ms).substr(0, 4) + "x faster"});
  }
#else
  rows.push_back({"torch::optim::AdamW", 0, 0, "not measured: this LibTorch has no CUDA"});
#endif
  for (auto& t : tensors) {
    cudaFree(t.param); cudaFree(const_cast<float*>(t.grad)); cudaFree(t.exp_avg); cudaFree(t.exp_avg_sq);
  }

  // Quantize (with error feedback) and dequantize-accumulate: 256M values.
  const int64_t n = int64_t{1} << 28;
  float* x = RandomDevice(n, 0.01f, 100);
  float* r = RandomDevice(n, 0.001f, 101);
  float* scales = nullptr;
  int8_t* q = nullptr;
  CHECK_CUDA(cudaMalloc(&scales, n / 256 * 4));
  CHECK_CUDA(cudaMalloc(&q, n));
  const double q_ms = MedianMs([&] { CHECK_OK(LaunchQuantizeInt8(x, r, n, 256, scales, q, nullptr)); });
  rows.push_back({"quantize int8 +ef", q_ms, n * (4.0 + 4 + 1 + 4) + n / 256 * 4.0, "block 256"});
  const double d_ms = MedianMs([&] { CHECK_OK(LaunchDequantizeAccumulate(scales, q, n, 256, x, nullptr)); });
  rows.push_back({"dequantize-accumulate", d_ms, n * (1.0 + 4 + 4) + n / 256 * 4.0, "block 256"});
  cudaFree(x); cudaFree(r); cudaFree(scales); cudaFree(q);

  // Fingerprint: 1 GiB in 200 tensors.
  std::vector<ByteSpan> spans;
  std::vector<uint64_t> span_sizes;
  for (int i = 0; i < 200; ++i) {
    const uint64_t part = kCopy / 200 / 4096 * 4096;
    spans.push_back(ByteSpan{static_cast<uint8_t*>(src) + i * part, part});
    span_sizes.push_back(part);
  }
  const size_t ws = FingerprintWorkspaceBytes(span_sizes.data(), span_sizes.size());
  void* workspace = nullptr;
  uint8_t* digest = nullptr;
  CHECK_CUDA(cudaMalloc(&workspace, ws));
  CHECK_CUDA(cudaMalloc(&digest, 32));
  double fp_bytes = 0;
  for (auto s : span_sizes) fp_bytes += s;
  const double f_ms = MedianMs([&] { CHECK_OK(LaunchFingerprint(spans.data(), spans.size(), workspace, ws, digest, nullptr)); });
  rows.push_back({"fingerprint", f_ms, fp_bytes, "SHA-256, 4 KiB leaves"});
  cudaFree(workspace);
  cudaFree(digest);
  cudaFree(src);

  std::printf("\n%-24s %10s %10s %9s  %s\n", "kernel", "ms", "GB/s", "% copy", "note");
  for (const auto& row : rows) {
    const double gbs = row.ms > 0 ? row.bytes / row.ms / 1e6 : 0;
    std::printf("%-24s %10.3f %10.1f %8.1f%%  %s\n", row.name.c_str(), row.ms, gbs, 100 * gbs / copy_gbs,
                row.note.c_str());
  }
  return 0;
}
