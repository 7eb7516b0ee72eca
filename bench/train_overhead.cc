// Step time of a single-worker cairn training job against a plain LibTorch
// loop of the same model, measured in the same run (issue target: overhead
// <= 5%). The cairn side is the real engine (train/trainer.h) on a real
// loopback data plane: batches from verified chunks, cairn's fused AdamW,
// fingerprints before and after every round, a receipt per round and the
// test-set evaluation each round. The plain side: torch::nn modules,
// torch::optim::AdamW, batches drawn from the same tensors in memory.
// Both single-threaded; runs alternate, five times each; medians are
// reported. The cairn job runs twice per repetition: verified (a step-chain
// link every 50 steps and the round's state hashed, docs/verification.md)
// and with verification off.
//   build/bench/train_overhead [steps=2000] [chain_every=50] [reps=5]
#include <algorithm>
#include <cstdlib>
#include <string>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <torch/torch.h>

#include "data/loopback_data_plane.h"
#include "train/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

double PlainLoop(const torch::Tensor& x, const torch::Tensor& y, int64_t steps) {
  torch::manual_seed(1);
  torch::nn::Sequential mlp(torch::nn::Flatten(), torch::nn::Linear(784, 256), torch::nn::ReLU(),
                            torch::nn::Linear(256, 128), torch::nn::ReLU(), torch::nn::Linear(128, 10));
  torch::optim::AdamW opt(mlp->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0));
  std::mt19937_64 rng(1);
  const auto t0 = Clock::now();
  double sink = 0;
  for (int64_t s = 0; s < steps; ++s) {
    auto idx = torch::empty({64}, torch::kLong);
    for (int i = 0; i < 64; ++i) idx[i] = static_cast<int64_t>(rng() % x.size(0));
    opt.zero_grad();
    auto loss = torch::cross_entropy_loss(mlp->forward(x.index_select(0, idx)), y.index_select(0, idx));
    loss.backward();
    opt.step();
    sink += loss.item<double>();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (sink < 0) std::printf("impossible\n");
  return secs / static_cast<double>(steps);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace cairn;
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 2000;
  // Verification commitments (docs/verification.md): a step-chain link every
  // `chain_every` steps, the round's state hashed; 0: off.
  const uint32_t chain_every = argc > 2 ? static_cast<uint32_t>(std::atoi(argv[2])) : 50;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 5;
  if (!std::filesystem::exists(kFashion)) {
    std::printf("train_overhead: %s not installed (scripts/setup installs dataset-fashion-mnist)\n", kFashion);
    return 1;
  }
  torch::set_num_threads(1);
  data::LoopbackDataPlane plane;
  auto manifest = plane.Add(kFashion, data::Format::kIdx, "fashion-mnist");
  if (!manifest.ok()) {
    std::printf("dataset: %s\n", manifest.status().ToString().c_str());
    return 1;
  }
  // The plain loop's data: the same records, decoded once.
  data::DataClient client("127.0.0.1", plane.port(), plane.dir() + "/cache");
  std::string records;
  for (const auto& c : manifest->splits[0].chunks) records += *client.GetBlob(c.hash);
  const int64_t n = static_cast<int64_t>(records.size() / 785);
  auto raw = torch::from_blob(records.data(), {n, 785}, torch::kUInt8);
  auto y = raw.select(1, 0).to(torch::kLong);
  auto x = raw.narrow(1, 1, 784).to(torch::kFloat).div(255.0).view({n, 1, 28, 28});

  // One cairn run: seconds per step over its rounds.
  auto cairn_run = [&](uint32_t chain) -> double {
    train::TrainTask t;
    t.job_id = "bench";
    t.job_name = "bench";
    t.dataset = *manifest;
    t.config.model = "mlp";
    t.config.steps = steps;
    t.config.round_steps = 500;
    t.config.chain_every = chain;
    double round_ms = 0;
    train::TrainHooks h;
    h.threads = 1;
    h.on_round = [&](const train::RoundReport& r) {
      round_ms += static_cast<double>(r.end_unix_ms - r.start_unix_ms);
      return OkStatus();
    };
    auto result = train::RunTraining(t, client, h);
    if (!result.ok()) {
      std::printf("cairn run failed: %s\n", result.status().ToString().c_str());
      std::exit(1);
    }
    return round_ms / 1000.0 / static_cast<double>(steps);
  };
  // Alternating runs, medians: this machine's noise is a few percent run to run.
  std::vector<double> cairn_step, bare_step, plain_step;
  for (int rep = 0; rep < reps; ++rep) {
    plain_step.push_back(PlainLoop(x, y, steps));
    cairn_step.push_back(cairn_run(chain_every));
    bare_step.push_back(cairn_run(0));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  const double c = median(cairn_step), b = median(bare_step), p = median(plain_step);
  std::printf("mlp 784-256-128-10, batch 64, %lld steps, 1 thread, %d runs each (medians)\n", static_cast<long long>(steps), reps);
  std::printf("%-52s %10s\n", "loop", "ms/step");
  std::printf("%-52s %10.3f\n", "plain LibTorch (torch::optim::AdamW)", p * 1e3);
  std::printf("%-52s %10.3f\n", "cairn job, verification off (engine, receipts, eval)", b * 1e3);
  std::printf("%-52s %10.3f\n", ("cairn job, verified (chain every " + std::to_string(chain_every) + ", state hashed)").c_str(),
              c * 1e3);
  std::printf("overhead: %+.1f%% verified, %+.1f%% off (cairn / plain = %.3f, %.3f)\n", (c / p - 1) * 100, (b / p - 1) * 100,
              c / p, b / p);
  return 0;
}
