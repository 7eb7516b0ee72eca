// CPU references of the kernels, one thread (per-core throughput; the issue's
// target is >= 1 GB/s per core for quantize and fingerprint), with memcpy
// over the same bytes in the same run as the baseline for ratios.
// Bytes counted: the op's fp32 input (quantize, dequantize: 4 B per value;
// fingerprint: the tensor bytes; AdamW: 28 B per parameter read + written).
//   build/bench/kernels/kernels_cpu_bench --benchmark_min_time=0.5
#include <cstring>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "kernels/adamw_cpu.h"
#include "kernels/fingerprint_cpu.h"
#include "kernels/quantize_cpu.h"

namespace cairn::kernels {
namespace {

constexpr int64_t kValues = 1 << 22;  // 16 MiB of fp32: past the L2 of this machine

std::vector<float> Random(int64_t n, float scale) {
  std::mt19937_64 rng(1);
  std::normal_distribution<float> d(0, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void BM_Memcpy(benchmark::State& state) {
  auto a = Random(kValues, 1);
  std::vector<float> b(kValues);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), kValues * 4);
    benchmark::DoNotOptimize(b.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * kValues * 4);
}
BENCHMARK(BM_Memcpy);

void BM_QuantizeInt8(benchmark::State& state) {
  auto x = Random(kValues, 0.01f), r = Random(kValues, 0.001f);
  std::vector<float> s(kValues / 256 + 1);
  std::vector<int8_t> q(kValues);
  for (auto _ : state) {
    auto st = QuantizeInt8Cpu(x.data(), state.range(0) ? r.data() : nullptr, kValues, 256, s.data(), q.data(), 1);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(q.data());
  }
  state.SetBytesProcessed(state.iterations() * kValues * 4);
}
BENCHMARK(BM_QuantizeInt8)->ArgName("error_feedback")->Arg(0)->Arg(1);

void BM_DequantizeAccumulate(benchmark::State& state) {
  auto x = Random(kValues, 0.01f), out = Random(kValues, 1);
  std::vector<float> s(kValues / 256 + 1);
  std::vector<int8_t> q(kValues);
  (void)QuantizeInt8Cpu(x.data(), nullptr, kValues, 256, s.data(), q.data(), 1);
  for (auto _ : state) {
    (void)DequantizeAccumulateCpu(s.data(), q.data(), kValues, 256, out.data(), 1);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * kValues * 4);
}
BENCHMARK(BM_DequantizeAccumulate);

void BM_Fingerprint(benchmark::State& state) {
  auto x = Random(kValues, 1);
  std::vector<ByteSpan> spans;  // 16 tensors of 1 MiB, as a model's layers
  for (int i = 0; i < 16; ++i) spans.push_back(ByteSpan{x.data() + i * (kValues / 16), kValues / 16 * 4});
  for (auto _ : state) benchmark::DoNotOptimize(FingerprintCpu(spans, 1));
  state.SetBytesProcessed(state.iterations() * kValues * 4);
}
BENCHMARK(BM_Fingerprint);

void BM_FingerprintPortable(benchmark::State& state) {  // the GPU's SHA-256 code, run on the host
  auto x = Random(kValues / 16, 1);
  for (auto _ : state) benchmark::DoNotOptimize(FingerprintPortable({ByteSpan{x.data(), kValues / 16 * 4}}));
  state.SetBytesProcessed(state.iterations() * kValues / 16 * 4);
}
BENCHMARK(BM_FingerprintPortable);

void BM_AdamW(benchmark::State& state) {
  auto p = Random(kValues, 1), g = Random(kValues, 1), m = Random(kValues, 0.1f), v = Random(kValues, 0.1f);
  for (auto& x : v) x *= x;
  std::vector<AdamWTensor> t = {{p.data(), g.data(), m.data(), v.data(), kValues}};
  int64_t step = 1;
  for (auto _ : state) {
    (void)AdamWStepCpu(t, AdamWOptions{}, step++, 1);
    benchmark::DoNotOptimize(p.data());
  }
  state.SetBytesProcessed(state.iterations() * kValues * 28);
}
BENCHMARK(BM_AdamW);

}  // namespace
}  // namespace cairn::kernels

BENCHMARK_MAIN();
