// Identity and hashing micro-benchmarks. Ed25519 uses a 20-byte message, as
// `openssl speed ed25519` does, so bench/crypto_vs_openssl.sh can report the
// ratio against OpenSSL's own loop measured in the same run.
#include <string>

#include <benchmark/benchmark.h>

#include "runtime/crypto/ed25519.h"
#include "runtime/crypto/sha256.h"

namespace cairn {
namespace {

const std::string kMessage(20, 'm');

void BM_Ed25519Sign(benchmark::State& state) {
  auto key = Ed25519PrivateKey::Generate().value();
  for (auto _ : state) {
    auto sig = key.Sign(kMessage);
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  auto key = Ed25519PrivateKey::Generate().value();
  std::string sig = key.Sign(kMessage).value();
  const Ed25519PublicKey& pub = key.public_key();
  for (auto _ : state) {
    Status s = pub.Verify(kMessage, sig);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

// A key seen once (ledger replay across many signers): parse + verify.
void BM_Ed25519VerifyOneShot(benchmark::State& state) {
  auto key = Ed25519PrivateKey::Generate().value();
  std::string sig = key.Sign(kMessage).value();
  std::string pub = key.public_key().bytes();
  for (auto _ : state) {
    Status s = Ed25519Verify(pub, kMessage, sig);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519VerifyOneShot);

void BM_Sha256(benchmark::State& state) {
  std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    Sha256Digest d = Sha256(data);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Sha256)->Arg(64)->Arg(1 << 20);

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
