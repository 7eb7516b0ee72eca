// Ledger micro-benchmarks.
//  - Inclusion proofs generated per second in a 1,000,000-entry tree (target
//    >= 200,000/s), against verifying the same proofs (the hashing-bound
//    baseline a client pays).
//  - Entry validation (what the append path and `verify` do per entry)
//    against a bare Ed25519 verification, its floor.
#include <random>

#include <benchmark/benchmark.h>

#include "ledger/entry.h"
#include "ledger/hash_tiles.h"
#include "ledger/merkle.h"

namespace cairn::ledger {
namespace {

constexpr uint64_t kTreeSize = 1'000'000;

const HashTiles& Tree() {
  static const HashTiles* tree = [] {
    auto* t = new HashTiles();
    for (uint64_t i = 0; i < kTreeSize; ++i) t->Append(LeafHash("entry " + std::to_string(i)));
    return t;
  }();
  return *tree;
}

void BM_InclusionProof1M(benchmark::State& state) {
  const HashTiles& tree = Tree();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto proof = InclusionProof(tree, rng() % kTreeSize, kTreeSize);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof1M);

void BM_VerifyInclusion1MBaseline(benchmark::State& state) {
  const HashTiles& tree = Tree();
  std::string root = HashBytes(RootAt(tree, kTreeSize).value());
  std::vector<std::pair<uint64_t, std::vector<std::string>>> proofs;
  for (uint64_t i = 0; i < 1024; ++i) {
    uint64_t idx = (i * 977) % kTreeSize;
    std::vector<std::string> p;
    std::vector<Hash> hashes = InclusionProof(tree, idx, kTreeSize).value();
    for (const auto& h : hashes) p.push_back(HashBytes(h));
    proofs.push_back({idx, p});
  }
  size_t k = 0;
  for (auto _ : state) {
    const auto& [idx, p] = proofs[k++ % proofs.size()];
    Status s = VerifyInclusion(idx, kTreeSize, HashBytes(tree.Node(0, idx).value()), p, root);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyInclusion1MBaseline);

void BM_ConsistencyProof1M(benchmark::State& state) {
  const HashTiles& tree = Tree();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    auto proof = ConsistencyProof(tree, 1 + rng() % (kTreeSize - 1), kTreeSize);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProof1M);

std::string SampleReceipt(const Ed25519PrivateKey& k) {
  return MakeEntry(k, 1, [](schema::LedgerEntry::Body::Builder b) {
           auto r = b.initStepReceipt();
           r.setJobId("job-1");
           r.setEndUnixMillis(1000);
           auto c = r.initConsumed(4);
           for (unsigned i = 0; i < 4; ++i) {
             c[i].setDatasetId(AsData(std::string(32, 'd')));
             c[i].setSamples(64);
           }
           r.setFingerprintBefore(AsData(std::string(32, 'a')));
           r.setFingerprintAfter(AsData(std::string(32, 'b')));
         })
      .value();
}

void BM_ValidateReceiptEntry(benchmark::State& state) {
  auto k = Ed25519PrivateKey::Generate().value();
  std::string e = SampleReceipt(k);
  for (auto _ : state) {
    auto h = ValidateEntry(e);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateReceiptEntry);

void BM_Ed25519VerifyOneShotBaseline(benchmark::State& state) {
  auto k = Ed25519PrivateKey::Generate().value();
  std::string msg(200, 'm');
  std::string sig = k.Sign(msg).value();
  std::string pub = k.public_key().bytes();
  for (auto _ : state) {
    Status s = Ed25519Verify(pub, msg, sig);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519VerifyOneShotBaseline)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace cairn::ledger

BENCHMARK_MAIN();
