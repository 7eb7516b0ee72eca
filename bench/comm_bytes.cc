// Bytes each worker sends per 1,000 steps, ddp against diloco (H=100, int8
// pseudo-gradients), training char-gpt on tinyshakespeare with two ranks
// (threads of this process over a real TCPStore and Gloo on loopback), with
// each run's final validation loss, in the same run. Bytes are what the
// collectives put on the wire per rank: ring all-reduce 2(n-1)/n of the
// buffer, all-gather (n-1) buffers. The default model is the Shakespeare
// example's (4 layers, width 128), at the example's inner lr 1e-3 (2e-3
// slows this model down, ddp and diloco alike). DiLoCo's outer step uses lr 1.0 and
// Nesterov momentum 0.4: with only 10 outer steps, the job default (0.7 /
// 0.9, tuned for hundreds of outer steps) overshoots (bench/RESULTS.md).
//   build/bench/comm_bytes [steps=1000] [width=128] [layers=4]
//   env: OUTER_LR, OUTER_MOMENTUM, LR, NO_INT8, ONLY_DILOCO, ROUNDS=1 (per-round loss)
#include <cstdio>
#include <thread>

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include "data/loopback_data_plane.h"
#include "train/trainer.h"

namespace {

using namespace cairn;

struct Outcome {
  double val_loss = 0, seconds = 0, comm_seconds = 0;
  uint64_t bytes = 0, collectives = 0;
};

Outcome Run(data::LoopbackDataPlane& plane, const data::Manifest& m, jobspec::Strategy strategy, int64_t steps,
            int64_t width, int64_t layers) {
  c10d::TCPStoreOptions so;
  so.port = 0;
  so.isServer = true;
  so.waitWorkers = false;
  auto server = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
  train::TrainTask t;
  t.job_id = strategy == jobspec::Strategy::kDdp ? "ddp" : "diloco";
  t.job_name = "comm-bytes";
  t.dataset = m;
  t.world = 2;
  t.store_host = "127.0.0.1";
  t.store_port = server->getPort();
  t.config.model = "char-gpt";
  t.config.layers = layers;
  t.config.heads = 4;
  t.config.width = width;
  t.config.context = 64;
  t.config.batch_size = 32;
  t.config.lr = 1e-3;
  t.config.steps = steps;
  t.config.round_steps = 100;
  t.config.strategy = strategy;
  t.config.inner_steps = 100;
  t.config.compress_int8 = strategy == jobspec::Strategy::kDiloco;
  t.config.outer_lr = 1.0;
  t.config.outer_momentum = 0.4;
  // Overrides, to compare settings (job defaults: outer 0.7 / 0.9).
  if (const char* v = std::getenv("LR")) t.config.lr = std::atof(v);
  if (std::getenv("NO_INT8")) t.config.compress_int8 = false;
  if (const char* v = std::getenv("OUTER_LR")) t.config.outer_lr = std::atof(v);
  if (const char* v = std::getenv("OUTER_MOMENTUM")) t.config.outer_momentum = std::atof(v);
  std::vector<StatusOr<train::TrainResult>> out(2, StatusOr<train::TrainResult>(InternalError("not run")));
  std::vector<std::thread> threads;
  for (uint32_t r = 0; r < 2; ++r) {
    threads.emplace_back([&, r] {
      train::TrainTask mine = t;
      mine.rank = r;
      data::DataClient client("127.0.0.1", plane.port(), "");
      train::TrainHooks h;
      h.threads = 1;
      // ROUNDS=1 prints rank 0's validation loss after every round.
      if (r == 0 && std::getenv("ROUNDS")) {
        h.on_round = [&](const train::RoundReport& rep) {
          std::printf("  %s round %llu/%llu: train %.4f val %.4f\n", t.job_id.c_str(),
                      static_cast<unsigned long long>(rep.round), static_cast<unsigned long long>(rep.rounds), rep.loss,
                      rep.eval);
          std::fflush(stdout);
          return OkStatus();
        };
      }
      out[r] = train::RunTraining(mine, client, h);
    });
  }
  for (auto& th : threads) th.join();
  for (auto& o : out) {
    if (!o.ok()) {
      std::printf("run failed: %s\n", o.status().ToString().c_str());
      std::exit(1);
    }
  }
  return Outcome{out[0]->final_eval, out[0]->seconds, out[0]->comm_seconds, out[0]->bytes_sent, out[0]->collectives};
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t steps = argc > 1 ? std::atoll(argv[1]) : 1000;
  const int64_t width = argc > 2 ? std::atoll(argv[2]) : 128;
  const int64_t layers = argc > 3 ? std::atoll(argv[3]) : 4;
  const char* shared = std::getenv("CAIRN_SHARED_DATA");
  const std::string text = std::string(shared ? shared : "../shared/data") + "/tinyshakespeare/input.txt";
  data::LoopbackDataPlane plane;
  auto m = plane.Add(text, data::Format::kText, "shakespeare");
  if (!m.ok()) {
    std::printf("dataset: %s (set CAIRN_SHARED_DATA)\n", m.status().ToString().c_str());
    return 1;
  }
  // ONLY_DILOCO=1 skips the baseline (its result is deterministic per machine).
  const Outcome ddp = std::getenv("ONLY_DILOCO") ? Outcome{1, 1, 0, 1, 1}
                                                  : Run(plane, *m, jobspec::Strategy::kDdp, steps, width, layers);
  const Outcome dil = Run(plane, *m, jobspec::Strategy::kDiloco, steps, width, layers);
  auto per1k = [&](uint64_t b) { return static_cast<double>(b) * 1000.0 / static_cast<double>(steps); };
  std::printf("char-gpt %lld layers, width %lld, context 64, batch 32/rank, 2 ranks, %lld steps/rank\n",
              static_cast<long long>(layers), static_cast<long long>(width), static_cast<long long>(steps));
  std::printf("diloco: H=100, outer lr %s, outer momentum %s\n", std::getenv("OUTER_LR") ? std::getenv("OUTER_LR") : "1.0",
              std::getenv("OUTER_MOMENTUM") ? std::getenv("OUTER_MOMENTUM") : "0.4");
  std::printf("%-22s %16s %12s %10s %10s %12s\n", "strategy", "bytes/1k steps", "collectives", "val loss", "seconds",
              "compute %");
  std::printf("%-22s %16.0f %12llu %10.4f %10.1f %11.1f%%\n", "ddp", per1k(ddp.bytes),
              static_cast<unsigned long long>(ddp.collectives), ddp.val_loss, ddp.seconds,
              100 * (1 - ddp.comm_seconds / ddp.seconds));
  std::printf("%-22s %16.0f %12llu %10.4f %10.1f %11.1f%%\n", "diloco H=100 int8", per1k(dil.bytes),
              static_cast<unsigned long long>(dil.collectives), dil.val_loss, dil.seconds,
              100 * (1 - dil.comm_seconds / dil.seconds));
  std::printf("bytes ratio ddp/diloco: %.1fx; val loss diloco/ddp: %.4f (%+.2f%%)\n",
              static_cast<double>(ddp.bytes) / static_cast<double>(std::max<uint64_t>(1, dil.bytes)),
              dil.val_loss / ddp.val_loss, (dil.val_loss / ddp.val_loss - 1) * 100);
  return 0;
}
