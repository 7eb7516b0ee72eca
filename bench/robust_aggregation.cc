// Robust aggregation and the cheap checks against a poisoned DiLoCo worker
// (docs/verification.md), with four real ranks (threads over Gloo, int8
// pseudo-gradients, Fashion-MNIST MLP) in one run:
//  1. the final validation loss (mean cross-entropy of the trained model on
//     the test split) when rank 3 sends its update x100 every round, under
//     mean, trimmed_mean and centered_clip, against the all-honest run;
//  2. how many of a cheater's rounds the cheap checks alone flag (norm and
//     direction against the others' robust centre, coordinator/round_audit.h)
//     for random, scaled and sign-flip updates, and how many honest rounds
//     they flag by mistake.
//   build/bench/robust_aggregation [steps=600] [check_rounds=100]
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "coordinator/round_audit.h"
#include "data/loopback_data_plane.h"
#include "ledger/verification_rules.h"
#include "train/trainer.h"

namespace {

using namespace cairn;
constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

struct Run {
  double val_loss = 0, accuracy = 0;
  std::vector<std::vector<std::string>> updates;  // [round][rank]
};

Run Train(data::LoopbackDataPlane& plane, const data::Manifest& m, const std::string& test_records, int64_t steps,
          int64_t inner, train::Aggregate agg, train::Misbehave cheat) {
  train::TrainTask t;
  t.job_id = "robust";
  t.job_name = "robust";
  t.dataset = m;
  t.config.model = "mlp";
  t.config.hidden = {128};
  t.config.batch_size = 32;
  t.config.lr = 0.002;
  t.config.steps = steps;
  t.config.strategy = jobspec::Strategy::kDiloco;
  t.config.inner_steps = inner;
  t.config.compress_int8 = true;
  t.config.aggregate = agg;
  t.config.chain_every = 10;
  t.world = 4;
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  auto server = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
  t.store_host = "127.0.0.1";
  t.store_port = server->getPort();
  Run out;
  const uint64_t rounds = static_cast<uint64_t>((steps + inner - 1) / inner);
  out.updates.assign(rounds, std::vector<std::string>(4));
  std::vector<StatusOr<train::TrainResult>> results(4, StatusOr<train::TrainResult>(InternalError("not run")));
  std::vector<std::thread> ranks;
  for (uint32_t r = 0; r < 4; ++r) {
    ranks.emplace_back([&, r] {
      train::TrainTask mine = t;
      mine.rank = r;
      data::DataClient c("127.0.0.1", plane.port(), plane.dir() + "/cache");
      train::TrainHooks h;
      h.threads = 1;
      if (r == 3) h.misbehave = cheat;
      h.on_round = [&, r](const train::RoundReport& rep) {
        if (rep.round >= 1 && rep.round <= rounds && rep.rank < 4) out.updates[rep.round - 1][rep.rank] = rep.update;
        return OkStatus();
      };
      results[r] = train::RunTraining(mine, c, h);
    });
  }
  for (auto& th : ranks) th.join();
  for (const auto& r : results) {
    if (!r.ok()) {
      std::printf("training failed: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
  }
  // The leader's model on the test split: validation loss and accuracy.
  const std::string& ts = results[0]->leader ? results[0]->torchscript : results[1]->torchscript;
  std::istringstream in(ts);
  torch::jit::Module model = torch::jit::load(in);
  const int64_t n = static_cast<int64_t>(test_records.size() / 785);
  auto raw = torch::from_blob(const_cast<char*>(test_records.data()), {n, 785}, torch::kUInt8);
  auto y = raw.select(1, 0).to(torch::kLong);
  auto x = raw.narrow(1, 1, 784).to(torch::kFloat).div(255.0).view({n, 1, 28, 28});
  torch::NoGradGuard g;
  auto logits = model.forward({x}).toTensor();
  out.val_loss = torch::cross_entropy_loss(logits, y).item<double>();
  out.accuracy = logits.argmax(1).eq(y).sum().item<double>() / static_cast<double>(n);
  return out;
}

// The cheap checks on every round of a run: rounds of rank 3 flagged, and
// honest rounds flagged.
std::pair<double, double> Flagged(const Run& run) {
  size_t cheat = 0, cheat_flagged = 0, honest = 0, honest_flagged = 0;
  for (const auto& round : run.updates) {
    std::vector<coordinator::AuditedReceipt> rs;
    for (uint32_t r = 0; r < 4; ++r) {
      coordinator::AuditedReceipt a;
      a.worker = std::string(32, static_cast<char>('a' + r));
      a.rank = r;
      a.members = {0, 1, 2, 3};
      a.has_commitments = true;
      std::string error;
      a.update = coordinator::UpdateValues(round[r], true, &error);
      rs.push_back(std::move(a));
    }
    coordinator::AuditContext ctx;
    ctx.diloco = true;
    auto v = coordinator::AuditRound(ctx, rs);
    const uint32_t poison = ledger::kFlagNorm | ledger::kFlagDirection;
    for (uint32_t r = 0; r < 4; ++r) {
      const bool flagged = (v[r].flags & poison) != 0;
      if (r == 3) {
        ++cheat;
        cheat_flagged += flagged;
      } else {
        ++honest;
        honest_flagged += flagged;
      }
    }
  }
  return {static_cast<double>(cheat_flagged) / cheat, static_cast<double>(honest_flagged) / honest};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 600;
  const int64_t check_rounds = argc > 2 ? std::atoll(argv[2]) : 100;
  if (!std::filesystem::exists(kFashion)) {
    std::printf("robust_aggregation: %s not installed (scripts/setup installs dataset-fashion-mnist)\n", kFashion);
    return 1;
  }
  torch::set_num_threads(1);
  data::LoopbackDataPlane plane;
  auto m = plane.Add(kFashion, data::Format::kIdx, "fashion-mnist");
  if (!m.ok()) return 1;
  data::DataClient client("127.0.0.1", plane.port(), plane.dir() + "/cache");
  std::string test;
  for (const auto& c : m->FindSplit("test")->chunks) test += *client.GetBlob(c.hash);

  using A = train::Aggregate;
  using M = train::Misbehave;
  std::printf("4 diloco ranks (int8, H=20), mlp 784-128-10, %lld steps; rank 3 sends its update x100 every round\n",
              static_cast<long long>(steps));
  const Run honest = Train(plane, *m, test, steps, 20, A::kMean, M::kNone);
  std::printf("%-34s %10s %10s %12s\n", "run", "val loss", "accuracy", "vs honest");
  std::printf("%-34s %10.4f %10.4f %12s\n", "all honest, mean", honest.val_loss, honest.accuracy, "-");
  int bad = 0;
  for (A a : {A::kMean, A::kTrimmedMean, A::kCenteredClip}) {
    const Run r = Train(plane, *m, test, steps, 20, a, M::kScaled);
    const double rel = r.val_loss / honest.val_loss - 1;
    std::printf("%-34s %10.4f %10.4f %+11.1f%%\n", (std::string("x100 worker, ") + train::AggregateName(a)).c_str(),
                r.val_loss, r.accuracy, 100 * rel);
    if (a != A::kMean && std::fabs(rel) > 0.02) ++bad;
  }
  std::printf("\ncheap checks alone (no replay), %lld rounds of 4 ranks per mode (H=5):\n", static_cast<long long>(check_rounds));
  std::printf("%-12s %16s %20s\n", "mode", "cheater flagged", "honest flagged");
  for (M mode : {M::kRandom, M::kScaled, M::kSignFlip}) {
    const Run r = Train(plane, *m, test, check_rounds * 5, 5, A::kTrimmedMean, mode);
    auto [caught, false_flags] = Flagged(r);
    std::printf("%-12s %15.1f%% %19.1f%%\n", train::MisbehaveName(mode), 100 * caught, 100 * false_flags);
    if (caught < 0.99) ++bad;
  }
  return bad == 0 ? 0 : 2;
}
