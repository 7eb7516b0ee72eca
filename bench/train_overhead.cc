// Step time of a single-worker cairn training job against a plain LibTorch
// loop of the same model, measured in the same run (issue target: overhead
// <= 5%). The cairn side is the real engine (train/trainer.h) on a real
// loopback data plane: batches from verified chunks, cairn's fused AdamW,
// fingerprints before and after every round, a receipt per round and the
// test-set evaluation each round. The plain side: torch::nn modules,
// torch::optim::AdamW, batches drawn from the same tensors in memory.
// Both single-threaded; runs alternate, twice each; the median is reported.
//   build/bench/train_overhead [steps=2000]
#include <algorithm>
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

  std::vector<double> cairn_step, plain_step;
  for (int rep = 0; rep < 2; ++rep) {
    plain_step.push_back(PlainLoop(x, y, steps));
    train::TrainTask t;
    t.job_id = "bench";
    t.job_name = "bench";
    t.dataset = *manifest;
    t.config.model = "mlp";
    t.config.steps = steps;
    t.config.round_steps = 500;
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
      return 1;
    }
    cairn_step.push_back(round_ms / 1000.0 / static_cast<double>(steps));
  }
  std::sort(cairn_step.begin(), cairn_step.end());
  std::sort(plain_step.begin(), plain_step.end());
  const double c = (cairn_step[0] + cairn_step[1]) / 2, p = (plain_step[0] + plain_step[1]) / 2;
  std::printf("mlp 784-256-128-10, batch 64, %lld steps, 1 thread, 2 runs each\n", static_cast<long long>(steps));
  std::printf("%-34s %10s\n", "loop", "ms/step");
  std::printf("%-34s %10.3f  (runs %.3f, %.3f)\n", "plain LibTorch (torch::optim::AdamW)", p * 1e3, plain_step[0] * 1e3,
              plain_step[1] * 1e3);
  std::printf("%-34s %10.3f  (runs %.3f, %.3f)\n", "cairn job (engine, receipts, eval)", c * 1e3, cairn_step[0] * 1e3,
              cairn_step[1] * 1e3);
  std::printf("overhead: %+.1f%% (cairn / plain = %.3f)\n", (c / p - 1) * 100, c / p);
  return 0;
}
