// The training engine on real parts: Fashion-MNIST and tinyshakespeare
// registered in a loopback data plane, real LibTorch training, real Gloo
// process groups over a real TCPStore (ranks as threads of this process;
// tests/training_test.cc runs them as worker processes).
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/cuda.h>
#include <torch/script.h>

#include "data/builder.h"
#include "data/loopback_data_plane.h"
#include "runtime/base/test_data.h"
#include "train/membership.h"
#include "train/train_test_support.h"
#include "train/trainer.h"

namespace cairn::train {
namespace {

using testing::StartStore;
using Training = testing::TrainingFixture;

TEST_F(Training, MlpLearnsAndRepeatsBitForBit) {
  std::vector<RoundReport> reports;
  auto a = Run(Task("mlp", 1000), &reports);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_GE(a->final_eval, 0.82) << "one epoch of an MLP reaches ~0.85 on Fashion-MNIST";
  ASSERT_EQ(reports.size(), 5u);
  uint64_t consumed = 0;
  for (const auto& u : reports[0].consumed) consumed += u.samples;
  EXPECT_EQ(consumed, 200u * 64u) << "every sample drawn is counted against its chunk";
  EXPECT_EQ(reports[1].fingerprint_before, reports[0].fingerprint_after);
  EXPECT_NE(reports[0].fingerprint_before, reports[0].fingerprint_after);
  auto b = Run(Task("mlp", 1000));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->fingerprint, b->fingerprint) << "deterministic mode: same job, same bits";
  // The exported TorchScript runs with plain LibTorch and agrees.
  std::istringstream in(a->torchscript);
  torch::jit::Module m = torch::jit::load(in);
  auto x = torch::rand({8, 1, 28, 28});
  auto y = m.forward({x}).toTensor();
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{8, 10}));

  // Fine-tuning starts from the parent's parameters: its first round is
  // already as good as the parent.
  TrainTask ft = Task("mlp", 100);
  ft.parent_torchscript = a->torchscript;
  std::vector<RoundReport> ft_reports;
  auto tuned = Run(ft, &ft_reports);
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_GE(tuned->final_eval, 0.82);
  ft.parent_torchscript = "not a model";
  EXPECT_EQ(Run(ft).status().code(), StatusCode::kInvalidArgument);

  // A user's TorchScript module trains too (here: the exported MLP).
  const std::string path = cache_.path() + "/user.pt";
  std::ofstream(path, std::ios::binary) << a->torchscript;
  TrainTask user = Task("torchscript", 200);
  user.config.torchscript_path = path;
  auto trained = Run(user);
  ASSERT_TRUE(trained.ok()) << trained.status();
  EXPECT_GE(trained->final_eval, 0.82);
}

TEST_F(Training, ResumingFromACheckpointGivesTheSameModel) {
  TrainTask t = Task("mlp", 600);
  t.config.round_steps = 100;
  t.config.checkpoint_every = 2;
  std::vector<std::pair<uint64_t, std::string>> checkpoints;
  auto whole = Run(t, nullptr, &checkpoints);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(checkpoints.size(), 2u);  // rounds 2 and 4 (not the last)
  t.resume_checkpoint = checkpoints[0].second;
  std::vector<RoundReport> reports;
  auto resumed = Run(t, &reports);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(reports.front().round, 3u);
  EXPECT_EQ(resumed->fingerprint, whole->fingerprint);
  t.resume_checkpoint = "garbage";
  EXPECT_EQ(Run(t).status().code(), StatusCode::kInvalidArgument);
}

// A cuda job where this process has no usable GPU fails at once, naming
// why, rather than training on the CPU.
TEST_F(Training, CudaJobWithoutAGpuFailsNamingWhy) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is visible: CudaTrainsStagesThroughHostAndRepeats covers it";
  TrainTask t = Task("mlp", 20);
  t.config.device = jobspec::Device::kCuda;
  auto r = Run(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status();
  EXPECT_NE(r.status().message().find("cuda"), std::string::npos) << r.status();
}

// On a GPU: the same job twice gives the same bits (fp32 and bf16); a
// checkpoint taken on the GPU resumes on the CPU's state format; the model
// exported from the GPU loads and runs on the CPU. Skips without a GPU.
TEST_F(Training, CudaTrainsStagesThroughHostAndRepeats) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device is visible";
  for (bool bf16 : {false, true}) {
    TrainTask t = Task("cnn", 200);
    t.config.device = jobspec::Device::kCuda;
    t.config.bf16 = bf16;
    t.config.round_steps = 100;
    t.config.checkpoint_every = 1;
    std::vector<RoundReport> reports;
    std::vector<std::pair<uint64_t, std::string>> checkpoints;
    auto a = Run(t, &reports, &checkpoints);
    ASSERT_TRUE(a.ok()) << a.status();
    auto b = Run(t);
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(a->fingerprint, b->fingerprint) << "deterministic on one GPU, bf16 " << bf16;
    EXPECT_NE(reports[0].profile.find("device=cuda:"), std::string::npos) << reports[0].profile;
    ASSERT_EQ(checkpoints.size(), 1u);
    TrainTask on_cpu = Task("cnn", 200);
    on_cpu.config.round_steps = 100;
    on_cpu.resume_checkpoint = checkpoints[0].second;  // saved from the GPU
    EXPECT_TRUE(Run(on_cpu).ok());
    std::istringstream in(a->torchscript);
    torch::jit::Module m = torch::jit::load(in);
    EXPECT_EQ(m.forward({torch::rand({4, 1, 28, 28})}).toTensor().sizes(), (std::vector<int64_t>{4, 10}));
  }
}

TEST_F(Training, CharGptLearnsTextAndExportsTorchScript) {
  auto text = plane_.Add(SharedDataDir() + "/tinyshakespeare/input.txt", data::Format::kText, "shakespeare");
  ASSERT_TRUE(text.ok()) << text.status();
  TrainTask t = TinyGpt(*text);  // 60 steps in two rounds
  std::vector<RoundReport> reports;
  auto r = Run(t, &reports);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_LT(reports[1].eval, reports[0].eval + 0.05);  // validation loss, not accuracy
  EXPECT_LT(reports[1].eval, 5.0);                     // below uniform (ln 256 = 5.55)
  // The export runs in plain LibTorch and gives the engine's validation logits shape.
  std::istringstream in(r->torchscript);
  torch::jit::Module m = torch::jit::load(in);
  auto logits = m.forward({torch::randint(0, 256, {3, 16}, torch::kLong)}).toTensor();
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 16, 256}));
  // And it is the trained model: the engine's validation loss, recomputed
  // here over every consecutive 16-byte window of the last 10% of the text.
  auto bytes = ReadSharedData("tinyshakespeare/input.txt");
  ASSERT_TRUE(bytes.ok());
  const std::string val = bytes->substr(bytes->size() * 9 / 10);
  const int64_t windows = (static_cast<int64_t>(val.size()) - 1) / 16;
  auto x = torch::empty({windows, 16}, torch::kLong), y = torch::empty({windows, 16}, torch::kLong);
  for (int64_t w = 0; w < windows; ++w) {
    for (int64_t k = 0; k < 16; ++k) {
      x[w][k] = static_cast<uint8_t>(val[w * 16 + k]);
      y[w][k] = static_cast<uint8_t>(val[w * 16 + k + 1]);
    }
  }
  torch::NoGradGuard g;
  auto out = m.forward({x}).toTensor();
  const double loss = torch::cross_entropy_loss(out.reshape({-1, 256}), y.reshape({-1})).item<double>();
  EXPECT_NEAR(loss, reports[1].eval, 1e-3);
}

// A tokens-u16 dataset trains char-gpt with a vocabulary wider than a
// byte: the text's bytes as ids b*16+1 (up to 4,081) of a 4,096-token
// vocabulary. The export declares that vocabulary.
TEST_F(Training, CharGptTrainsOnU16Tokens) {
  auto bytes = ReadSharedData("tinyshakespeare/input.txt");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  std::string raw;
  for (unsigned char c : bytes->substr(0, 200000)) {
    const uint16_t t = static_cast<uint16_t>(c * 16 + 1);
    raw.push_back(static_cast<char>(t & 0xff));
    raw.push_back(static_cast<char>(t >> 8));
  }
  const std::string path = cache_.path() + "/shakespeare.u16";
  std::ofstream(path, std::ios::binary) << raw;
  auto m = plane_.Add(path, data::Format::kTokensU16, "shakespeare-u16");
  ASSERT_TRUE(m.ok()) << m.status();
  TrainTask t = TinyGpt(*m);  // 60 steps in two rounds
  t.config.vocab = 256;  // too small for these ids: refused, naming the token
  auto refused = Run(t);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status();
  EXPECT_NE(std::string(refused.status().message()).find("outside the model's vocabulary of 256"), std::string::npos);
  t.config.vocab = 4096;
  std::vector<RoundReport> reports;
  auto r = Run(t, &reports);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_LT(reports[1].eval, reports[0].eval);
  EXPECT_LT(reports[1].eval, 5.5);  // uniform over 4,096 ids is 8.32
  std::istringstream in(r->torchscript);
  torch::jit::Module mod = torch::jit::load(in);
  auto logits = mod.forward({torch::randint(0, 4096, {2, 16}, torch::kLong)}).toTensor();
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 16, 4096}));
}

TEST_F(Training, CnnExportScoresWhatTheEngineScored) {
  TrainTask t = Task("cnn", 40);
  t.config.round_steps = 40;
  auto r = Run(t);
  ASSERT_TRUE(r.ok()) << r.status();
  auto built = data::BuildDataset(testing::FashionDir(), data::Format::kIdx);
  ASSERT_TRUE(built.ok());
  std::string records;
  for (size_t i = built->manifest.splits[0].chunks.size(); i < built->chunks.size(); ++i) records += built->chunks[i];
  const int64_t n = static_cast<int64_t>(records.size() / 785);
  auto raw = torch::from_blob(records.data(), {n, 785}, torch::kUInt8);
  auto images = raw.narrow(1, 1, 784).to(torch::kFloat).div(255.0).view({n, 1, 28, 28});
  std::istringstream in(r->torchscript);
  torch::jit::Module m = torch::jit::load(in);
  torch::NoGradGuard g;
  auto pred = m.forward({images}).toTensor().argmax(1);
  const double acc = pred.eq(raw.select(1, 0).to(torch::kLong)).sum().item<double>() / static_cast<double>(n);
  EXPECT_NEAR(acc, r->final_eval, 1e-4);
  EXPECT_GT(acc, 0.5);
}

// Ranks as threads: `quit_rank` (if >= 0) stops after round 1, as a lost
// worker would; `after` (if given) gets each rank's fingerprint after every round.
std::vector<StatusOr<TrainResult>> RunRanks(Training* fixture, TrainTask t, int world, int quit_rank = -1,
                                            std::vector<std::vector<kernels::Digest256>>* after = nullptr) {
  if (after) after->assign(world, {});
  return testing::RunRanks(fixture->plane(), t, world, [&](int r, TrainHooks& h) {
    h.on_round = [after, quit_rank, r](const RoundReport& rep) {
      if (after) (*after)[r].push_back(rep.fingerprint_after);
      return r == quit_rank ? AbortedError("this worker is gone") : OkStatus();
    };
  });
}

TEST_F(Training, DdpRanksStayIdentical) {
  TrainTask t = Task("mlp", 400);
  t.config.strategy = jobspec::Strategy::kDdp;
  auto r = RunRanks(this, t, 2);
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  ASSERT_TRUE(r[1].ok()) << r[1].status();
  EXPECT_EQ(r[0]->fingerprint, r[1]->fingerprint);
  EXPECT_GE(r[0]->final_eval, 0.78);
  EXPECT_GT(r[0]->bytes_sent, 0u);
}

// Ranks inside one worker (resources.gpus; NCCL on GPUs, Gloo here): the
// same bits as the same ddp job on two workers, and one report per round.
TEST_F(Training, LocalRanksTrainAsDdpAcrossWorkersDoes) {
  TrainTask t = Task("mlp", 400);
  t.config.strategy = jobspec::Strategy::kDdp;
  auto across = RunRanks(this, t, 2);
  ASSERT_TRUE(across[0].ok()) << across[0].status();
  TrainTask local = t;
  local.local_ranks = 2;
  std::vector<RoundReport> reports;
  auto inside = Run(local, &reports);
  ASSERT_TRUE(inside.ok()) << inside.status();
  EXPECT_EQ(inside->fingerprint, across[0]->fingerprint) << "local ranks all-reduce as two workers do";
  EXPECT_EQ(reports.size(), 2u) << "rank 0 alone reports (one receipt per round for the worker)";
  EXPECT_GE(inside->final_eval, 0.78);
  EXPECT_EQ(inside->collectives, 2u * 400u) << "both ranks all-reduce every step";
  EXPECT_TRUE(inside->leader);
  // Local ranks are for a worker that is the job's only seat, with ddp.
  local.config.strategy = jobspec::Strategy::kSingle;
  EXPECT_EQ(Run(local).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(Training, DilocoWithInt8SendsFarLessAndConverges) {
  TrainTask t = Task("mlp", 400);
  t.config.strategy = jobspec::Strategy::kDiloco;
  t.config.inner_steps = 100;
  t.config.compress_int8 = true;
  auto r = RunRanks(this, t, 2);
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  ASSERT_TRUE(r[1].ok()) << r[1].status();
  EXPECT_EQ(r[0]->fingerprint, r[1]->fingerprint) << "every rank applies the same outer step";
  EXPECT_GE(r[0]->final_eval, 0.75);
  // 4 rounds of ~235K int8 values to one peer, against 400 fp32 all-reduces.
  EXPECT_LT(r[0]->bytes_sent, 4u * 240000u);
}

TEST_F(Training, SurvivorsGoOnWithoutALostWorker) {
  TrainTask t = Task("mlp", 600);
  t.config.strategy = jobspec::Strategy::kDiloco;
  t.config.inner_steps = 100;
  std::vector<std::vector<kernels::Digest256>> after;
  auto r = RunRanks(this, t, 3, /*quit_rank=*/1, &after);
  EXPECT_FALSE(r[1].ok());
  ASSERT_EQ(after[0].size(), after[2].size());
  for (size_t i = 0; i < after[0].size(); ++i) EXPECT_EQ(after[0][i], after[2][i]) << "after round " << i + 1;
  ASSERT_TRUE(r[0].ok()) << r[0].status();
  ASSERT_TRUE(r[2].ok()) << r[2].status();
  EXPECT_EQ(r[0]->fingerprint, r[2]->fingerprint) << "the two survivors agree";
  EXPECT_EQ(r[0]->rounds, 6u);
  EXPECT_TRUE(r[0]->leader);
  EXPECT_GE(r[0]->final_eval, 0.78);
}

TEST_F(Training, NewWorkerJoinsAtARoundBoundary) {
  TrainTask t = Task("mlp", 600);
  t.config.strategy = jobspec::Strategy::kDiloco;
  t.config.inner_steps = 100;
  t.config.compress_int8 = true;
  auto server = StartStore();
  t.world = 2;
  t.store_host = "127.0.0.1";
  t.store_port = server->getPort();
  std::vector<StatusOr<TrainResult>> out(3, StatusOr<TrainResult>(InternalError("not run")));
  std::vector<std::vector<RoundReport>> reports(3);
  std::atomic<bool> round_one_done{false};
  auto run = [&](uint32_t slot, uint32_t uid, bool joining) {
    TrainTask mine = t;
    mine.rank = uid;
    mine.joining = joining;
    data::DataClient client("127.0.0.1", plane().port(), "");
    TrainHooks h;
    h.threads = 1;
    h.membership_timeout_ms = 1500;
    if (std::getenv("CAIRN_TEST_VERBOSE")) {
      h.log = [uid](const std::string& l) { std::fprintf(stderr, "[uid %u] %s\n", uid, l.c_str()); };
    }
    h.on_round = [&, slot](const RoundReport& rep) {
      reports[slot].push_back(rep);
      if (rep.round == 1) round_one_done = true;
      return OkStatus();
    };
    out[slot] = RunTraining(mine, client, h);
  };
  std::thread a(run, 0, 0, false), b(run, 1, 1, false);
  while (!round_one_done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::thread c(run, 2, 7, true);  // a volunteer arriving mid-job
  a.join();
  b.join();
  c.join();
  for (const auto& r : out) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GE(out[2]->first_round, 2u);
  EXPECT_LE(out[2]->first_round, 6u);
  EXPECT_EQ(out[0]->fingerprint, out[2]->fingerprint) << "the joiner ends on the same bits";
  EXPECT_EQ(out[0]->fingerprint, out[1]->fingerprint);
  EXPECT_GT(out[0]->sync_bytes, 0u) << "rank 0 handed the state over";
  // From the round it joined, the joiner was one of three and agreed after every round.
  const RoundReport& first = reports[2].front();
  EXPECT_EQ(first.round, out[2]->first_round);
  EXPECT_EQ(first.members, 3u);
  const RoundReport& same = reports[0][first.round - 1];
  EXPECT_EQ(same.round, first.round);
  EXPECT_EQ(same.members, 3u);
  EXPECT_EQ(same.fingerprint_before, first.fingerprint_before) << "it starts from the current outer parameters";
  EXPECT_EQ(same.fingerprint_after, first.fingerprint_after);
  EXPECT_GE(out[0]->final_eval, 0.75);
}

// The commit vote on its own: three members over a real TCPStore, where one
// member's round went well or badly or it never voted. Everyone must reach
// the same answer, and keep the round only if all three succeeded.
std::vector<StatusOr<bool>> Vote(const std::vector<int>& votes /* 1 ok, 0 failed, -1 silent */) {
  auto server = StartStore();
  const uint32_t n = static_cast<uint32_t>(votes.size());
  std::vector<StatusOr<bool>> out(n, StatusOr<bool>(InternalError("silent")));
  std::vector<std::thread> threads;
  for (uint32_t u = 0; u < n; ++u) {
    threads.emplace_back([&, u] {
      auto m = Membership::Connect("127.0.0.1", server->getPort(), "vote", u, n, "127.0.0.1");
      if (!m.ok()) {
        out[u] = m.status();
        return;
      }
      auto g = m->Join(1, 0, std::chrono::seconds(10));
      if (!g.ok()) {
        out[u] = g.status();
        return;
      }
      if (votes[u] >= 0) out[u] = m->Commit(1, 0, votes[u] == 1, std::chrono::milliseconds(800));
    });
  }
  for (auto& th : threads) th.join();
  return out;
}

TEST(MembershipVote, KeepsTheRoundOnlyWhenEveryMemberSucceeded) {
  for (const auto& r : Vote({1, 1, 1})) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(*r);
  }
  // One rank's collective failed while the others' went through: a peer
  // that finished its part and vanished. All three must roll back.
  for (const auto& r : Vote({1, 0, 1})) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(*r);
  }
  // A member that never votes (killed after its collective) is waited for,
  // then the round is redone without it.
  auto silent = Vote({1, -1, 1});
  for (uint32_t u : {0u, 2u}) {
    ASSERT_TRUE(silent[u].ok()) << silent[u].status();
    EXPECT_FALSE(*silent[u]);
  }
}

}  // namespace
}  // namespace cairn::train
