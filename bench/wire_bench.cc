// Wire codec micro-benchmarks: what one heartbeat costs to encode and decode
// (target >= 1,000,000 encode+decode per second), and a full worker hello.
#include <benchmark/benchmark.h>

#include "runtime/wire/codec.h"

namespace cairn::wire {
namespace {

void BM_HeartbeatEncodeDecode(benchmark::State& state) {
  Heartbeat hb{1, 1'700'000'000'000, 2};
  for (auto _ : state) {
    ++hb.sequence;
    std::string bytes = Encode(hb);
    Heartbeat out;
    Status s = Decode(bytes, &out);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeartbeatEncodeDecode);

void BM_WorkerHelloEncodeDecode(benchmark::State& state) {
  WorkerHello h;
  h.identity_key = std::string(32, 'k');
  h.signature = std::string(64, 's');
  h.name = "gpu-box";
  h.region = "eu-west";
  for (int i = 0; i < 8; ++i) h.devices.push_back(Device{DeviceKind::kCuda, "NVIDIA H100", 80ull << 30, 132, "9.0"});
  for (auto _ : state) {
    std::string bytes = Encode(h);
    WorkerHello out;
    Status s = Decode(bytes, &out);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WorkerHelloEncodeDecode);

}  // namespace
}  // namespace cairn::wire

BENCHMARK_MAIN();
