// Test support for the training engine's tests: Fashion-MNIST (and text)
// registered in a loopback data plane, and ranks run as threads over a real
// TCPStore and Gloo. Test-only; includes LibTorch.
#ifndef CAIRN_TRAIN_TRAIN_TEST_SUPPORT_H_
#define CAIRN_TRAIN_TRAIN_TEST_SUPPORT_H_

#include <cstdlib>
#include <filesystem>
#include <string>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "data/loopback_data_plane.h"
#include "runtime/base/temp_dir.h"
#include "train/trainer.h"

namespace cairn::train::testing {

inline constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";
// Where Fashion-MNIST is: CAIRN_FASHION_DIR (the GPU check's unpacked
// package) or Debian's place.
inline std::string FashionDir() {
  const char* dir = std::getenv("CAIRN_FASHION_DIR");
  return dir != nullptr && *dir != '\0' ? dir : kFashion;
}

class TrainingFixture : public ::testing::Test {
 public:
  void SetUp() override {
    if (!std::filesystem::exists(FashionDir())) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
    auto m = plane_.Add(FashionDir(), data::Format::kIdx, "fashion-mnist");
    ASSERT_TRUE(m.ok()) << m.status();
    fashion_ = *m;
  }
  TrainTask Task(const std::string& model, int64_t steps) {
    TrainTask t;
    t.job_id = "job-1";
    t.job_name = "fashion";
    t.dataset = fashion_;
    t.config.model = model;
    t.config.steps = steps;
    t.config.round_steps = 200;
    return t;
  }
  // A tiny char-gpt (2 layers, width 32, context 16): 60 steps in 2 rounds.
  TrainTask TinyGpt(const data::Manifest& text) {
    TrainTask t = Task("char-gpt", 60);
    t.dataset = text;
    t.config.layers = 2;
    t.config.width = 32;
    t.config.heads = 2;
    t.config.context = 16;
    t.config.batch_size = 16;
    t.config.lr = 3e-3;
    t.config.round_steps = 30;
    return t;
  }
  StatusOr<TrainResult> Run(const TrainTask& t, std::vector<RoundReport>* reports = nullptr,
                            std::vector<std::pair<uint64_t, std::string>>* checkpoints = nullptr) {
    data::DataClient client("127.0.0.1", plane_.port(), cache_.path());
    TrainHooks h;
    h.threads = 1;
    if (std::getenv("CAIRN_TEST_VERBOSE")) h.log = [](const std::string& l) { std::fprintf(stderr, "%s\n", l.c_str()); };
    h.on_round = [&](const RoundReport& r) {
      if (reports) reports->push_back(r);
      return OkStatus();
    };
    h.on_checkpoint = [&](uint64_t round, const std::string& bytes, const kernels::Digest256&) {
      if (checkpoints) checkpoints->emplace_back(round, bytes);
      return OkStatus();
    };
    return RunTraining(t, client, h);
  }
  data::LoopbackDataPlane& plane() { return plane_; }
  data::LoopbackDataPlane plane_;
  ScopedTempDir cache_;
  data::Manifest fashion_;
};

// A rendezvous store on a free loopback port, as the coordinator hosts one.
inline c10::intrusive_ptr<c10d::TCPStore> StartStore() {
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
}

// Ranks as threads over a real TCPStore and Gloo; `setup(rank, hooks)`
// sets each rank's hooks (threads 1 and a 1.5 s membership wait already).
inline std::vector<StatusOr<TrainResult>> RunRanks(data::LoopbackDataPlane& plane, TrainTask t, int world,
                                                   const std::function<void(int, TrainHooks&)>& setup,
                                                   const std::function<void(int, TrainTask&)>& task_setup = {}) {
  auto server = StartStore();
  t.world = world;
  t.store_host = "127.0.0.1";
  t.store_port = server->getPort();
  std::vector<StatusOr<TrainResult>> out(world, StatusOr<TrainResult>(InternalError("not run")));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      TrainTask mine = t;
      mine.rank = r;
      if (task_setup) task_setup(r, mine);
      data::DataClient client("127.0.0.1", plane.port(), "");
      TrainHooks h;
      h.threads = 1;
      h.membership_timeout_ms = 1500;
      if (std::getenv("CAIRN_TEST_VERBOSE")) {
        h.log = [r](const std::string& l) { std::fprintf(stderr, "[rank %d] %s\n", r, l.c_str()); };
      }
      setup(r, h);
      out[r] = RunTraining(mine, client, h);
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

}  // namespace cairn::train::testing

#endif  // CAIRN_TRAIN_TRAIN_TEST_SUPPORT_H_
