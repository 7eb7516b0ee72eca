#include "scheduler/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "train/train_config.h"

namespace cairn::scheduler {
namespace {

// Multiply-adds of one forward pass over one sample.
double MacsPerSample(const train::TrainConfig& cfg, const DatasetFacts& d, std::string* what) {
  const double pixels = static_cast<double>(d.rows) * d.cols;
  if (cfg.model == "cnn") {
    *what = "cnn";
    const double conv1 = pixels * 9 * 32, conv2 = pixels / 4 * 9 * 32 * 64;
    return conv1 + conv2 + 64 * (pixels / 16) * 128 + 128 * 10;
  }
  if (cfg.model == "char-gpt") {
    *what = "char-gpt";
    const double w = static_cast<double>(cfg.width), t = static_cast<double>(cfg.context);
    const double per_token = cfg.layers * (12 * w * w + 2 * t * w) + w * cfg.vocab;
    return per_token * t;
  }
  *what = cfg.model == "mlp" ? "mlp" : cfg.model + " (sized as an mlp)";
  double macs = 0, in = d.text ? static_cast<double>(cfg.context) : pixels;
  for (int64_t h : cfg.hidden) {
    macs += in * static_cast<double>(h);
    in = static_cast<double>(h);
  }
  return macs + in * 10;
}

// Parameters (what an all-reduce moves), from the same shapes.
double Params(const train::TrainConfig& cfg, const DatasetFacts& d) {
  const double pixels = static_cast<double>(d.rows) * d.cols;
  if (cfg.model == "cnn") return 9 * 32 + 9 * 32 * 64 + 64 * (pixels / 16) * 128 + 128 * 10;
  const double w = static_cast<double>(cfg.width);
  if (cfg.model == "char-gpt") return cfg.layers * 12 * w * w + (cfg.vocab + cfg.context) * w;
  double params = 0, in = d.text ? static_cast<double>(cfg.context) : pixels;
  for (int64_t h : cfg.hidden) {
    params += (in + 1) * static_cast<double>(h);
    in = static_cast<double>(h);
  }
  return params + (in + 1) * 10;
}

}  // namespace

std::string Credits(uint64_t micros) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%llu.%06llu credits", static_cast<unsigned long long>(micros / 1'000'000),
                static_cast<unsigned long long>(micros % 1'000'000));
  return buf;
}

StatusOr<CostEstimate> EstimateTrainingCost(const jobspec::JobSpec& spec, const std::vector<DatasetFacts>& datasets,
                                            const std::vector<WorkerSpeed>& workers, uint64_t finetune_fee_micros) {
  if (workers.empty()) return InvalidArgumentError("no workers to estimate with");
  if (datasets.empty()) return InvalidArgumentError("a train job needs a dataset");
  ASSIGN_OR_RETURN(train::TrainConfig cfg, train::ConfigFromSpec(spec));
  const DatasetFacts& d = datasets.front();
  const double world = static_cast<double>(workers.size());
  const double samples = static_cast<double>(d.train_samples) * (d.text ? 0.9 / static_cast<double>(cfg.context) : 1.0);
  CostEstimate e;
  const double epoch_steps = std::ceil(cfg.epochs * samples / (static_cast<double>(cfg.batch_size) * world));
  e.steps = cfg.steps > 0 ? cfg.steps : static_cast<int64_t>(std::clamp(epoch_steps, 1.0, 1e15));
  // What the receipts will count: an image per sample, a token per byte of a text window.
  const uint64_t per_sample = d.text ? static_cast<uint64_t>(cfg.context) : 1;
  e.samples = static_cast<uint64_t>(e.steps) * static_cast<uint64_t>(cfg.batch_size) * workers.size() * per_sample;
  std::string what;
  e.flops_per_step = 6 * MacsPerSample(cfg, d, &what) * static_cast<double>(cfg.batch_size);
  double slowest = workers.front().tflops;
  for (const WorkerSpeed& w : workers) slowest = std::min(slowest, w.tflops);
  slowest = std::max(slowest, 1e-4);  // a worker that measured nothing: 0.1 GFLOP/s
  // Workers exchange fp32 state: ddp all-reduces gradients every step,
  // diloco its pseudo-gradient every inner_steps (a ring moves ~2x the bytes).
  double exchange_s = 0;
  if (workers.size() > 1 && cfg.strategy != jobspec::Strategy::kSingle) {
    exchange_s = 2 * 4 * Params(cfg, d) / kExchangeBytesPerSecond;
    if (cfg.strategy == jobspec::Strategy::kDiloco) exchange_s /= static_cast<double>(std::max<int64_t>(1, cfg.inner_steps));
  }
  const double step_s = e.flops_per_step / (slowest * 1e12 * kEfficiency) + kStepOverheadSeconds + exchange_s;
  e.hours = static_cast<double>(e.steps) * step_s / 3600;
  double compute = 0;
  for (const WorkerSpeed& w : workers) compute += e.hours * static_cast<double>(w.price_per_hour_micros);
  e.compute_micros = static_cast<uint64_t>(std::ceil(std::min(compute, 1e18)));  // saturates, as payouts do
  e.data_micros = e.samples * d.price_per_1k_micros / 1000;
  e.fee_micros = finetune_fee_micros;
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "%lld steps of %.3g GFLOP (%s, batch %lld) at %.0f%% of the slowest worker's %.1f GFLOP/s, + %.1f ms a step"
                " (optimizer, data%s)",
                static_cast<long long>(e.steps), e.flops_per_step / 1e9, what.c_str(),
                static_cast<long long>(cfg.batch_size), kEfficiency * 100, slowest * 1000,
                (kStepOverheadSeconds + exchange_s) * 1000, exchange_s > 0 ? ", exchange" : "");
  e.basis = buf;
  return e;
}

}  // namespace cairn::scheduler
