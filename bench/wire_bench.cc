// Wire codec micro-benchmarks: what one heartbeat costs to encode and decode
// (target >= 1,000,000 encode+decode per second), and a full worker hello.
#include <benchmark/benchmark.h>
#include <capnp/message.h>
#include <capnp/serialize.h>

#include "runtime/wire/cairn.capnp.h"
#include "runtime/wire/codec.h"

namespace cairn::wire {
namespace {

void BM_HeartbeatEncodeDecode(benchmark::State& state) {
  Heartbeat hb{1, 1'700'000'000'000, 2, {}, {}};
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

// Baseline: Cap'n Proto's own textbook path (messageToFlatArray, default
// ReaderOptions, no alignment handling, no validation) for the same message.
void BM_HeartbeatRawCapnpBaseline(benchmark::State& state) {
  uint64_t seq = 1;
  for (auto _ : state) {
    capnp::MallocMessageBuilder b;
    auto r = b.initRoot<schema::Heartbeat>();
    r.setSequence(++seq);
    r.setSentUnixMillis(1'700'000'000'000);
    r.setRunningTasks(2);
    kj::Array<capnp::word> words = capnp::messageToFlatArray(b);
    capnp::FlatArrayMessageReader reader(words);
    auto hb = reader.getRoot<schema::Heartbeat>();
    benchmark::DoNotOptimize(hb.getSequence() + hb.getSentUnixMillis() + hb.getRunningTasks());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeartbeatRawCapnpBaseline);

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
