// GPU cases of the kernel registry: each launcher against its CPU reference
// on the same fresh inputs, outputs poisoned (0xFF bytes: NaN floats, -1
// int8s) before the launch. Quantize and fingerprint must match bit for bit;
// AdamW within fp32 rounding (nvcc contracts a*b+c into FMAs, which rounds
// once instead of twice: 1-2 ulps per step). Where the build's LibTorch has
// CUDA, the torch ops' CUDA dispatch is checked too.
#include <memory>

#include "kernels/check_registry.h"
#include "kernels/device_info.h"

#if defined(CAIRN_KERNELS_CUDA)
#include <cuda_runtime.h>

#include "kernels/adamw.cuh"
#include "kernels/fingerprint.cuh"
#include "kernels/quantize.cuh"
#endif

namespace cairn::kernels::check {

#if defined(CAIRN_KERNELS_CUDA)
namespace {

// A device buffer freed on scope exit.
struct DeviceBuffer {
  void* ptr = nullptr;
  explicit DeviceBuffer(size_t bytes) {
    if (cudaMalloc(&ptr, bytes ? bytes : 1) != cudaSuccess) ptr = nullptr;
    if (ptr) cudaMemset(ptr, 0xff, bytes ? bytes : 1);  // poison
  }
  ~DeviceBuffer() { cudaFree(ptr); }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr); }
};

template <typename T>
std::unique_ptr<DeviceBuffer> Upload(const std::vector<T>& v) {
  auto b = std::make_unique<DeviceBuffer>(v.size() * sizeof(T));
  cudaMemcpy(b->ptr, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice);
  return b;
}

template <typename T>
std::vector<T> Download(const DeviceBuffer& b, size_t n) {
  std::vector<T> v(n);
  cudaMemcpy(v.data(), b.ptr, n * sizeof(T), cudaMemcpyDeviceToHost);
  return v;
}

Outcome CudaFailed(const std::string& where) {
  const cudaError_t e = cudaDeviceSynchronize();
  const cudaError_t last = cudaGetLastError();
  if (e == cudaSuccess && last == cudaSuccess) return Outcome{};
  return Outcome{false, 0, where + ": " + cudaGetErrorString(e != cudaSuccess ? e : last)};
}

Outcome AdamWGpu(std::mt19937_64& rng, const std::vector<int64_t>& sizes) {
  AdamWOptions o;
  o.lr = 1e-2;
  o.weight_decay = 0.1;
  std::vector<std::vector<float>> p, g, m, v;
  std::vector<std::unique_ptr<DeviceBuffer>> dp, dg, dm, dv;
  std::vector<AdamWTensor> host, dev;
  for (int64_t n : sizes) {
    p.push_back(RandomFloats(rng, n));
    m.push_back(RandomFloats(rng, n, 0.1f));
    v.push_back(RandomFloats(rng, n, 0.1f));
    for (auto& x : v.back()) x = x * x;
    dp.push_back(Upload(p.back()));
    dm.push_back(Upload(m.back()));
    dv.push_back(Upload(v.back()));
  }
  for (int step = 1; step <= 3; ++step) {
    host.clear();
    dev.clear();
    dg.clear();
    g.clear();
    for (size_t k = 0; k < sizes.size(); ++k) {
      g.push_back(RandomFloats(rng, sizes[k]));
      dg.push_back(Upload(g.back()));
      host.push_back(AdamWTensor{p[k].data(), g[k].data(), m[k].data(), v[k].data(), sizes[k]});
      dev.push_back(AdamWTensor{dp[k]->as<float>(), dg[k]->as<float>(), dm[k]->as<float>(), dv[k]->as<float>(), sizes[k]});
    }
    Status s = LaunchFusedAdamW(dev.data(), dev.size(), o, step, nullptr);
    if (!s.ok()) return Outcome{false, 0, s.ToString()};
    s = AdamWStepCpu(host, o, step);
    if (!s.ok()) return Outcome{false, 0, s.ToString()};
    if (Outcome c = CudaFailed("adamw launch"); !c.ok) return c;
  }
  Outcome worst;
  for (size_t k = 0; k < sizes.size(); ++k) {
    // FMA contraction: ~2 ulps of |p| and of the update per step, 3 steps.
    // The absolute term matters where an update of ~1 nearly cancels p:
    // there the error is ~1e-7 while |p| is ~1e-3 (seen in a host emulation
    // of the fused arithmetic over 1e8 parameters), so it is 1e-6, as on CPU.
    for (auto [buf, ref, name] : {std::tuple{dp[k].get(), &p[k], "param"}, std::tuple{dm[k].get(), &m[k], "exp_avg"},
                                  std::tuple{dv[k].get(), &v[k], "exp_avg_sq"}}) {
      auto got = Download<float>(*buf, sizes[k]);
      Outcome c = CompareClose(got.data(), ref->data(), sizes[k], 1e-6, 2e-6, std::string(name) + " " + std::to_string(k));
      if (!c.ok) return c;
      worst.max_error = std::max(worst.max_error, c.max_error);
    }
  }
  return worst;
}

Outcome QuantizeGpu(std::mt19937_64& rng, int64_t n, int32_t block, bool feedback, int misalign) {
  auto x = RandomFloats(rng, n + misalign, 0.01f);
  auto r = RandomFloats(rng, n + misalign, 0.001f);
  auto dx = Upload(x), dr = Upload(r);
  const int64_t blocks = (n + block - 1) / block;
  DeviceBuffer ds(blocks * 4), dq(n + 4);
  Status s = LaunchQuantizeInt8(dx->as<float>() + misalign, feedback ? dr->as<float>() + misalign : nullptr, n, block,
                                ds.as<float>(), dq.as<int8_t>() + misalign, nullptr);
  if (!s.ok()) return Outcome{false, 0, s.ToString()};
  if (Outcome c = CudaFailed("quantize launch"); !c.ok) return c;
  std::vector<float> cs(blocks);
  std::vector<int8_t> cq(n);
  s = QuantizeInt8Cpu(x.data() + misalign, feedback ? r.data() + misalign : nullptr, n, block, cs.data(), cq.data());
  if (!s.ok()) return Outcome{false, 0, s.ToString()};
  auto gs = Download<float>(ds, blocks);
  auto gq = Download<int8_t>(dq, n + misalign);
  auto gr = Download<float>(*dr, n + misalign);
  Outcome o = CompareExact(gs.data(), cs.data(), blocks, "scale");
  if (o.ok) o = CompareExact(gq.data() + misalign, cq.data(), n, "q");
  if (o.ok && feedback) o = CompareExact(gr.data() + misalign, r.data() + misalign, n, "residual");
  if (!o.ok) return o;
  // Dequantize-accumulate into a random accumulator, against the CPU.
  auto acc = RandomFloats(rng, n);
  auto dacc = Upload(acc);
  auto dq_clean = Upload(cq);
  s = LaunchDequantizeAccumulate(ds.as<float>(), dq_clean->as<int8_t>(), n, block, dacc->as<float>(), nullptr);
  if (!s.ok()) return Outcome{false, 0, s.ToString()};
  if (Outcome c = CudaFailed("dequantize launch"); !c.ok) return c;
  s = DequantizeAccumulateCpu(cs.data(), cq.data(), n, block, acc.data());
  if (!s.ok()) return Outcome{false, 0, s.ToString()};
  auto gacc = Download<float>(*dacc, n);
  return CompareExact(gacc.data(), acc.data(), n, "accumulated");
}

Outcome FingerprintGpu(std::mt19937_64& rng, const std::vector<int64_t>& sizes, int misalign) {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<std::unique_ptr<DeviceBuffer>> bufs;
  std::vector<ByteSpan> host, dev;
  std::vector<uint64_t> sz;
  for (int64_t n : sizes) {
    std::vector<uint8_t> b(n + misalign);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    bufs.push_back(Upload(b));
    bytes.push_back(std::move(b));
    host.push_back(ByteSpan{bytes.back().data() + misalign, static_cast<uint64_t>(n)});
    dev.push_back(ByteSpan{bufs.back()->as<uint8_t>() + misalign, static_cast<uint64_t>(n)});
    sz.push_back(n);
  }
  const size_t ws = FingerprintWorkspaceBytes(sz.data(), sz.size());
  DeviceBuffer workspace(ws), digest(32);
  Status s = LaunchFingerprint(dev.data(), dev.size(), workspace.ptr, ws, digest.as<uint8_t>(), nullptr);
  if (!s.ok()) return Outcome{false, 0, s.ToString()};
  if (Outcome c = CudaFailed("fingerprint launch"); !c.ok) return c;
  auto got = Download<uint8_t>(digest, 32);
  const Digest256 want = FingerprintCpu(host);
  return CompareExact(got.data(), want.data(), 32, "digest");
}

}  // namespace

std::string AddGpuCases(Registry& r) {
  auto devices = ListCudaDevices();
  if (!devices.ok()) return "GPU cases: not run: " + devices.status().ToString();
  if (devices->empty()) return "GPU cases: skipped: no CUDA device visible";
  std::vector<int64_t> many;  // 200 tensors, ~100M parameters in all
  for (int i = 0; i < 200; ++i) many.push_back(400000 + (i * 7919) % 200000 + (i % 3));
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{1}, {0, 5, 65537}, {320 * 65536 + 7}, many}) {
    r.push_back({"adamw", "cuda", std::to_string(sizes.size()) + " tensors",
                 [sizes](std::mt19937_64& g) { return AdamWGpu(g, sizes); }});
  }
  for (int64_t n : {0, 1, 7, 255, 256, 257, 4097, 65539, (1 << 24) + 5}) {
    for (int32_t block : {256, 64, 1000, 1}) {
      if (block == 1 && n > 65539) continue;
      for (int misalign : {0, 1}) {
        r.push_back({"quantize", "cuda",
                     "n=" + std::to_string(n) + " block=" + std::to_string(block) + (misalign ? " misaligned" : ""),
                     [=](std::mt19937_64& g) { return QuantizeGpu(g, n, block, true, misalign); }});
      }
    }
  }
  r.push_back({"quantize", "cuda", "n=100000 no feedback",
               [](std::mt19937_64& g) { return QuantizeGpu(g, 100000, 256, false, 0); }});
  for (const auto& sizes : std::vector<std::vector<int64_t>>{
           {}, {0}, {1}, {4095}, {4096}, {4097}, {5, 0, 8192, 100000, 33}, {(1 << 26) + 3}, many}) {
    for (int misalign : {0, 3}) {
      r.push_back({"fingerprint", "cuda", std::to_string(sizes.size()) + " tensors" + (misalign ? " misaligned" : ""),
                   [=](std::mt19937_64& g) { return FingerprintGpu(g, sizes, misalign); }});
    }
  }
  return "GPU cases: " + (*devices)[0].name;
}

#else

std::string AddGpuCases(Registry&) { return "GPU cases: skipped: this build has no CUDA (nvcc was not found)"; }

#endif

}  // namespace cairn::kernels::check
