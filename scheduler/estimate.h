// What a training job will cost, before any money moves (`cairn submit
// --dry-run`, and every submission's output), as SkyPilot shows one.
//
//   compute = sum over placed workers of price_per_hour x hours
//   hours   = steps x (FLOPs per step / the slowest placed worker's measured
//             FLOP/s / kEfficiency + kStepOverheadSeconds + exchange)
//             [ddp waits for the slowest; exchange: 2 x 4 bytes x parameters
//             / kExchangeBytesPerSecond per all-reduce, every step for ddp,
//             every inner_steps for diloco]
//   data    = samples x the dataset's price per 1,000 / 1,000
//   fee     = the parent model's fine-tuning fee (fine-tunes only)
//
// FLOPs per step are 6 x multiply-adds per sample x samples per step
// (forward and backward), counted from the model's shape (train/train_config.h)
// and the dataset's (image size, text context). The worker's FLOP/s is the
// fp32 matmul speed it measured at start (worker/matmul_bench.h); small
// models reach only part of it, hence kEfficiency and a fixed per-step cost
// (optimizer, data, all-reduce), calibrated on the CPU workers of
// the payments system test (tests/payments_test.cc). Samples are what the
// receipts will report: steps x batch x workers, times the context for text
// (a text dataset's samples are its tokens).
// Thread safety: pure functions.
#ifndef CAIRN_SCHEDULER_ESTIMATE_H_
#define CAIRN_SCHEDULER_ESTIMATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "jobspec/job_spec.h"
#include "runtime/base/statusor.h"

namespace cairn::scheduler {

inline constexpr double kEfficiency = 0.25;
inline constexpr double kStepOverheadSeconds = 0.003;
inline constexpr double kExchangeBytesPerSecond = 1e9;  // Gloo over TCP, per worker

struct DatasetFacts {
  std::string name;
  uint64_t train_samples = 0;  // the split training reads ("train", or "all")
  uint64_t price_per_1k_micros = 0;
  bool text = false;           // text/tokens: a sample is a window of `context` tokens
  uint32_t rows = 28, cols = 28;  // images
};

struct WorkerSpeed {
  double tflops = 0;  // measured
  uint64_t price_per_hour_micros = 0;
};

struct CostEstimate {
  int64_t steps = 0;       // per worker
  uint64_t samples = 0;    // all workers
  double flops_per_step = 0;
  double hours = 0;
  uint64_t compute_micros = 0, data_micros = 0, fee_micros = 0;
  std::string basis;       // how the time was estimated, in words
  uint64_t total() const { return compute_micros + data_micros + fee_micros; }
};

// InvalidArgument for a spec the trainer would refuse (bad hyperparameters),
// or no workers. `datasets` in the spec's order; training reads the first.
StatusOr<CostEstimate> EstimateTrainingCost(const jobspec::JobSpec& spec, const std::vector<DatasetFacts>& datasets,
                                            const std::vector<WorkerSpeed>& workers, uint64_t finetune_fee_micros);

// "1.234567 credits" for micro-credits.
std::string Credits(uint64_t micros);

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_ESTIMATE_H_
