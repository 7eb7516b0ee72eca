// CPU cases of the kernel registry: each CPU reference (through its torch op
// where one exists) against an independent reference: torch::optim::AdamW
// and a float64 AdamW, a libm-rounding int8 quantizer, and the fingerprint's
// recursive RFC 6962-shaped definition.
#include <torch/torch.h>

#include "kernels/adamw_cpu.h"
#include "kernels/check_registry.h"
#include "kernels/fingerprint_cpu.h"
#include "kernels/ops.h"
#include "kernels/quantize_cpu.h"
#include "kernels/sha256_portable.cuh"

namespace cairn::kernels::check {
namespace {

std::string Sizes(const std::vector<int64_t>& sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size() && i < 4; ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
  if (sizes.size() > 4) s += ",... (" + std::to_string(sizes.size()) + " tensors)";
  return s + "]";
}

// AdamW: the torch op (CPU reference) against torch::optim::AdamW and a
// float64 reference of the math in adamw_cpu.h, over 3 steps with fresh
// gradients. Tolerance: both sides round every operation to fp32, in slightly
// different orders (addcdiv scales m before dividing); per step that is a few
// ulps of |p| plus a few ulps of the update (lr = 1e-2), so abs 1e-6 +
// rel 1e-6 after 3 steps is ~10x the worst rounding seen, while a missing
// bias correction or decay term moves p by >= 1e-4.
Outcome AdamWAgainstTorch(std::mt19937_64& rng, const std::vector<int64_t>& sizes) {
  AdamWOptions o;
  o.lr = 1e-2;
  o.weight_decay = 0.1;
  std::vector<torch::Tensor> ours, theirs, m, v;
  std::vector<std::vector<double>> ref_p, ref_m, ref_v;
  for (int64_t n : sizes) {
    auto init = RandomFloats(rng, n);
    ours.push_back(torch::from_blob(init.data(), {n}, torch::kFloat).clone());
    theirs.push_back(ours.back().clone().set_requires_grad(true));
    m.push_back(torch::zeros({n}));
    v.push_back(torch::zeros({n}));
    ref_p.emplace_back(init.begin(), init.end());
    ref_m.emplace_back(n, 0.0);
    ref_v.emplace_back(n, 0.0);
  }
  torch::optim::AdamW opt(theirs, torch::optim::AdamWOptions(o.lr).betas({o.beta1, o.beta2}).eps(o.eps).weight_decay(
                                      o.weight_decay));
  for (int step = 1; step <= 3; ++step) {
    std::vector<torch::Tensor> grads;
    for (size_t k = 0; k < sizes.size(); ++k) {
      auto g = RandomFloats(rng, sizes[k]);
      grads.push_back(torch::from_blob(g.data(), {sizes[k]}, torch::kFloat).clone());
      theirs[k].mutable_grad() = grads.back().clone();
      const double bc1 = 1 - std::pow(o.beta1, step), bc2 = 1 - std::pow(o.beta2, step);
      for (int64_t i = 0; i < sizes[k]; ++i) {
        double& p = ref_p[k][i];
        double& mm = ref_m[k][i];
        double& vv = ref_v[k][i];
        p *= 1 - o.lr * o.weight_decay;
        mm = o.beta1 * mm + (1 - o.beta1) * g[i];
        vv = o.beta2 * vv + (1 - o.beta2) * double{g[i]} * g[i];
        p -= o.lr / bc1 * mm / (std::sqrt(vv) / std::sqrt(bc2) + o.eps);
      }
    }
    opt.step();
    Status s = FusedAdamWStep(ours, grads, m, v, o, step);
    if (!s.ok()) return Outcome{false, 0, s.ToString()};
  }
  Outcome worst;
  for (size_t k = 0; k < sizes.size(); ++k) {
    auto t = theirs[k].detach().contiguous();
    Outcome a = CompareClose(ours[k].data_ptr<float>(), t.data_ptr<float>(), sizes[k], 1e-6, 1e-6,
                             "param " + std::to_string(k) + " vs torch");
    if (!a.ok) return a;
    std::vector<float> ref(ref_p[k].begin(), ref_p[k].end());
    // float64 reference: fp32 state drifts by rounding only; same bound.
    Outcome b = CompareClose(ours[k].data_ptr<float>(), ref.data(), sizes[k], 1e-6, 1e-6,
                             "param " + std::to_string(k) + " vs float64");
    if (!b.ok) return b;
    worst.max_error = std::max({worst.max_error, a.max_error, b.max_error});
  }
  return worst;
}

// The quantizer's spec written independently: libm's nearbyint, plain loops.
void QuantizeSpec(const std::vector<float>& x, std::vector<float>* residual, int32_t block, std::vector<float>* s,
                  std::vector<int8_t>* q) {
  const int64_t n = static_cast<int64_t>(x.size());
  for (int64_t off = 0; off < n; off += block) {
    const int64_t len = std::min<int64_t>(block, n - off);
    float amax = 0;
    for (int64_t i = 0; i < len; ++i) amax = std::max(amax, std::fabs(x[off + i] + (residual ? (*residual)[off + i] : 0.f)));
    const float scale = amax / 127.0f;
    s->push_back(scale);
    for (int64_t i = 0; i < len; ++i) {
      const float v = x[off + i] + (residual ? (*residual)[off + i] : 0.f);
      const float r = scale > 0 ? std::min(127.f, std::max(-127.f, std::nearbyint(v / scale))) : 0.f;
      q->push_back(static_cast<int8_t>(r));
      if (residual) (*residual)[off + i] = v - (r == 0 ? 0.f : r * scale);
    }
  }
}

Outcome QuantizeAgainstSpec(std::mt19937_64& rng, int64_t n, int32_t block, bool feedback) {
  auto x = RandomFloats(rng, n, 0.01f);
  auto r0 = RandomFloats(rng, n, 0.001f);
  std::vector<float> spec_r = r0, spec_s;
  std::vector<int8_t> spec_q;
  QuantizeSpec(x, feedback ? &spec_r : nullptr, block, &spec_s, &spec_q);
  // The raw CPU reference, outputs poisoned, on 2 threads.
  const int64_t blocks = (n + block - 1) / block;
  std::vector<float> s(blocks, NAN), r = r0;
  std::vector<int8_t> q(n, 0x5a);
  Status st = QuantizeInt8Cpu(x.data(), feedback ? r.data() : nullptr, n, block, s.data(), q.data(), 2);
  if (!st.ok()) return Outcome{false, 0, st.ToString()};
  Outcome o = CompareExact(s.data(), spec_s.data(), blocks, "scale");
  if (o.ok) o = CompareExact(q.data(), spec_q.data(), n, "q");
  if (o.ok && feedback) o = CompareExact(r.data(), spec_r.data(), n, "residual");
  if (!o.ok) return o;
  // The torch op gives the same bytes behind a valid header.
  torch::Tensor tx = torch::from_blob(x.data(), {n}, torch::kFloat).clone();
  torch::Tensor tr = torch::from_blob(r0.data(), {n}, torch::kFloat).clone();
  auto packed = QuantizeInt8(tx, feedback ? tr : torch::Tensor(), block);
  if (!packed.ok()) return Outcome{false, 0, packed.status().ToString()};
  auto layout = ParseInt8Header(packed->data_ptr<uint8_t>(), packed->numel());
  if (!layout.ok()) return Outcome{false, 0, layout.status().ToString()};
  const uint8_t* base = packed->data_ptr<uint8_t>();
  o = CompareExact(reinterpret_cast<const float*>(base + layout->scales_offset), spec_s.data(), blocks, "op scale");
  if (o.ok) o = CompareExact(reinterpret_cast<const int8_t*>(base + layout->values_offset), spec_q.data(), n, "op q");
  if (!o.ok) return o;
  // Round trip through dequantize-accumulate: |x + r0 - deq| <= s/2 per value.
  torch::Tensor out = torch::zeros({n});
  Status d = DequantizeAccumulate(*packed, out);
  if (!d.ok()) return Outcome{false, 0, d.ToString()};
  for (int64_t i = 0; i < n; ++i) {
    const double v = double{x[i]} + (feedback ? r0[i] : 0.0f);
    const double err = std::fabs(v - out.data_ptr<float>()[i]);
    // Half a step plus the fp32 rounding of v, q*s and the sum (a few ulps).
    if (!(err <= 0.5 * spec_s[i / block] * (1 + 1e-5) + 1e-6 * std::fabs(v))) {
      return Outcome{false, err, "round trip error at " + std::to_string(i) + " exceeds half a step"};
    }
  }
  return o;
}

Outcome QuantizeRefusesNonFinite(std::mt19937_64& rng) {
  auto x = RandomFloats(rng, 1000);
  x[700] = INFINITY;
  std::vector<float> s(4);
  std::vector<int8_t> q(1000);
  Status st = QuantizeInt8Cpu(x.data(), nullptr, 1000, 256, s.data(), q.data());
  if (st.ok() || st.message().find("block 2") == std::string::npos || !std::isnan(s[2]) || std::isnan(s[1])) {
    return Outcome{false, 0, "want an error naming block 2 and a NaN scale only there; got " + st.ToString()};
  }
  return Outcome{};
}

// The fingerprint definition read recursively: RFC 6962's split at the
// largest power of two below n, over the portable SHA-256.
Digest256 TreeSpec(const uint8_t* data, uint64_t size, uint64_t first, uint64_t count) {
  Digest256 out;
  if (count == 1) {
    const uint64_t off = first * kFingerprintLeafBytes;
    sha256::HashWithSuffix(data + off, std::min(kFingerprintLeafBytes, size - off), 0x00, out.data());
    return out;
  }
  uint64_t k = 1;
  while (k * 2 < count) k *= 2;
  Digest256 l = TreeSpec(data, size, first, k), r = TreeSpec(data, size, first + k, count - k);
  sha256::HashInterior(l.data(), r.data(), out.data());
  return out;
}

Digest256 FingerprintSpec(const std::vector<std::vector<uint8_t>>& tensors) {
  std::vector<uint8_t> top(kFingerprintDomain, kFingerprintDomain + sizeof(kFingerprintDomain) - 1);
  auto put64 = [&](uint64_t v) { for (int i = 0; i < 8; ++i) top.push_back(static_cast<uint8_t>(v >> (8 * i))); };
  put64(tensors.size());
  for (const auto& t : tensors) {
    put64(t.size());
    Digest256 root = TreeSpec(t.data(), t.size(), 0, FingerprintLeaves(t.size()));
    top.insert(top.end(), root.begin(), root.end());
  }
  Digest256 d;
  sha256::HashWithSuffix(top.data(), top.size() - 1, top.back(), d.data());
  return d;
}

Outcome FingerprintAgainstSpec(std::mt19937_64& rng, const std::vector<int64_t>& sizes) {
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<ByteSpan> spans;
  for (int64_t n : sizes) {
    std::vector<uint8_t> b(n);
    for (auto& c : b) c = static_cast<uint8_t>(rng());
    bytes.push_back(std::move(b));
  }
  for (const auto& b : bytes) spans.push_back(ByteSpan{b.data(), b.size()});
  const Digest256 want = FingerprintSpec(bytes);
  const Digest256 cpu = FingerprintCpu(spans, 2), portable = FingerprintPortable(spans);
  if (cpu != want) return Outcome{false, 0, "FingerprintCpu " + DigestHex(cpu) + " != spec " + DigestHex(want)};
  if (portable != want) return Outcome{false, 0, "portable " + DigestHex(portable) + " != spec " + DigestHex(want)};
  // One flipped bit anywhere changes the digest.
  for (size_t k = 0; k < bytes.size(); ++k) {
    if (bytes[k].empty()) continue;
    bytes[k][rng() % bytes[k].size()] ^= 1;
    if (FingerprintCpu(spans, 2) == want) return Outcome{false, 0, "a flipped bit left the digest unchanged"};
    break;
  }
  return Outcome{};
}

Outcome FingerprintOpMatches(std::mt19937_64& rng) {
  std::vector<torch::Tensor> ts = {torch::randn({3, 1000}), torch::randn({0}), torch::randint(0, 100, {4097}, torch::kLong)};
  auto op = TensorFingerprint(ts);
  if (!op.ok()) return Outcome{false, 0, op.status().ToString()};
  std::vector<ByteSpan> spans;
  for (auto& t : ts) spans.push_back(ByteSpan{t.data_ptr(), static_cast<uint64_t>(t.nbytes())});
  if (*op != FingerprintCpu(spans)) return Outcome{false, 0, "torch op digest differs from FingerprintCpu"};
  if (TensorFingerprint({torch::randn({8, 8}).t()}).ok()) return Outcome{false, 0, "non-contiguous accepted"};
  return Outcome{};
}

Outcome OpsRefuseNonContiguous(std::mt19937_64&) {
  torch::Tensor t = torch::randn({16, 16}).t();
  if (QuantizeInt8(t, torch::Tensor(), 256).ok()) return Outcome{false, 0, "quantize accepted a transposed tensor"};
  auto c = torch::randn({256});
  if (FusedAdamWStep({t}, {t}, {t}, {t}, AdamWOptions{}, 1).ok()) return Outcome{false, 0, "adamw accepted it"};
  if (QuantizeInt8(c.to(torch::kDouble), torch::Tensor(), 256).ok()) return Outcome{false, 0, "float64 accepted"};
  if (FusedAdamWStep({c}, {c}, {c}, {c}, AdamWOptions{}, 0).ok()) return Outcome{false, 0, "step 0 accepted"};
  return Outcome{};
}

// The torch ops' CUDA dispatch against their CPU dispatch (builds against a
// CUDA LibTorch only; the launchers themselves are checked in
// check_gpu_cases.cc).
Outcome TorchOpsOnCuda(std::mt19937_64& rng) {
  const auto cuda = torch::Device(torch::kCUDA);
  torch::manual_seed(static_cast<uint64_t>(rng()));
  std::vector<torch::Tensor> p = {torch::randn({1000}), torch::randn({3, 70000})}, g, m, v;
  for (auto& t : p) {
    g.push_back(torch::randn_like(t));
    m.push_back(torch::zeros_like(t));
    v.push_back(torch::zeros_like(t));
  }
  auto to = [&](const std::vector<torch::Tensor>& ts) {
    std::vector<torch::Tensor> out;
    for (auto& t : ts) out.push_back(t.to(cuda));
    return out;
  };
  auto pc = to(p), gc = to(g), mc = to(m), vc = to(v);
  if (Status s = FusedAdamWStep(p, g, m, v, AdamWOptions{}, 1); !s.ok()) return Outcome{false, 0, s.ToString()};
  if (Status s = FusedAdamWStep(pc, gc, mc, vc, AdamWOptions{}, 1); !s.ok()) return Outcome{false, 0, s.ToString()};
  for (size_t k = 0; k < p.size(); ++k) {
    auto back = pc[k].cpu();
    Outcome c = CompareClose(back.data_ptr<float>(), p[k].data_ptr<float>(), p[k].numel(), 1e-6, 2e-6, "cuda op param");
    if (!c.ok) return c;
  }
  auto x = torch::randn({100003});
  auto r = torch::randn({100003}) * 0.01;
  auto rc = r.to(cuda);
  auto qc = QuantizeInt8(x.to(cuda), rc, 256);
  auto q = QuantizeInt8(x, r, 256);
  if (!qc.ok() || !q.ok()) return Outcome{false, 0, "quantize failed on one device"};
  if (!torch::equal(qc->cpu(), *q) || !torch::equal(rc.cpu(), r)) return Outcome{false, 0, "cuda quantize op differs"};
  auto out = torch::zeros({100003}, torch::TensorOptions().device(cuda));
  auto out_cpu = torch::zeros({100003});
  if (Status s = DequantizeAccumulate(*q, out); !s.ok()) return Outcome{false, 0, s.ToString()};
  if (Status s = DequantizeAccumulate(*q, out_cpu); !s.ok()) return Outcome{false, 0, s.ToString()};
  if (!torch::equal(out.cpu(), out_cpu)) return Outcome{false, 0, "cuda dequantize op differs"};
  auto fc = TensorFingerprint(pc), fp = TensorFingerprint(p);
  if (!fc.ok() || !fp.ok() || *fc != *fp) return Outcome{false, 0, "cuda fingerprint op differs"};
  return Outcome{};
}

}  // namespace

void AddTorchCudaCases(Registry& r) {
  if (TorchOpsHaveCuda() && torch::cuda::is_available()) r.push_back({"ops", "cuda", "torch ops dispatch", TorchOpsOnCuda});
}

void AddCpuCases(Registry& r) {
  for (const auto& sizes : std::vector<std::vector<int64_t>>{{1}, {0, 5, 65537}, {1 << 20}, {3, 257, 1000, 4097}}) {
    r.push_back({"adamw", "cpu", Sizes(sizes), [sizes](std::mt19937_64& g) { return AdamWAgainstTorch(g, sizes); }});
  }
  std::vector<int64_t> many;
  for (int i = 0; i < 60; ++i) many.push_back(1 + (i * 7919) % 5000);
  r.push_back({"adamw", "cpu", Sizes(many), [many](std::mt19937_64& g) { return AdamWAgainstTorch(g, many); }});
  for (int64_t n : {0, 1, 7, 255, 256, 257, 4097, 65539, (1 << 20) + 5}) {
    for (int32_t block : {256, 64, 1000, 1}) {
      if (block == 1 && n > 4097) continue;
      for (bool fb : {true, false}) {
        r.push_back({"quantize", "cpu", "n=" + std::to_string(n) + " block=" + std::to_string(block) + (fb ? " +ef" : ""),
                     [=](std::mt19937_64& g) { return QuantizeAgainstSpec(g, n, block, fb); }});
      }
    }
  }
  r.push_back({"quantize", "cpu", "Inf in block 2", QuantizeRefusesNonFinite});
  for (const auto& sizes : std::vector<std::vector<int64_t>>{
           {}, {0}, {1}, {4095}, {4096}, {4097}, {3 * 4096 + 1}, {5, 0, 8192, 100000, 33}, {(1 << 22) + 3}}) {
    r.push_back({"fingerprint", "cpu", Sizes(sizes), [sizes](std::mt19937_64& g) { return FingerprintAgainstSpec(g, sizes); }});
  }
  r.push_back({"fingerprint", "cpu", "torch op, mixed dtypes", FingerprintOpMatches});
  r.push_back({"ops", "cpu", "non-contiguous / bad dtype / step 0", OpsRefuseNonContiguous});
}

}  // namespace cairn::kernels::check
