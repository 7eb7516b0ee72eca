// What a training task runs, read from the job spec (jobspec/job_spec.h):
// the model and its shape, the optimizer, the strategy and its options,
// with defaults a user need not write. Unknown hyperparameters are errors
// (a typo must not silently train something else).
//
//   hyperparameters:            strategy: {diloco: {...}}
//     lr: 0.001                   inner_steps: 50      (H)
//     lr_schedule: cosine         (decays to lr/10 by the last step) | constant
//     warmup_steps: 0             (linear ramp from lr/warmup to lr first)
//     weight_decay: 0.0           outer_lr: 0.7
//     batch_size: 64              outer_momentum: 0.9
//     epochs: 3 | steps: N        compress: int8 | none
//     round_steps: 100   (single/ddp: steps per receipt)   aggregate: mean | trimmed_mean | centered_clip
//     seed: 0, deterministic: true
//     precision: fp32 | bf16  (bf16: autocast on CUDA; the parameters and
//                              AdamW state stay fp32)
//     hidden: "256,128"  (mlp)    layers/heads/width/context/dropout (char-gpt)
//     vocab: 256         (tokens must be below it; tokens-u16 data sets it)
// Thread safety: plain values.
#ifndef CAIRN_TRAIN_TRAIN_CONFIG_H_
#define CAIRN_TRAIN_TRAIN_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"
#include "jobspec/job_spec.h"
#include "train/aggregate.h"

namespace cairn::train {

struct TrainConfig {
  std::string model = "mlp";          // mlp | cnn | char-gpt | torchscript
  std::string torchscript_path;
  std::vector<int64_t> hidden = {256, 128};
  int64_t layers = 4, heads = 4, width = 128, context = 64;
  int64_t vocab = 256;                // text models: token ids are below it
  std::string chat_template = "roles";  // text models: how serving turns chat messages into a prompt (output.chat_template)
  double dropout = 0.0;
  double lr = 1e-3, weight_decay = 0.0;
  bool cosine = true;                 // lr_schedule: cosine (to lr/10 at the end) | constant
  int64_t warmup_steps = 0;           // linear warmup before the schedule
  int64_t batch_size = 64;
  double epochs = 3;                  // used when steps == 0
  int64_t steps = 0;
  int64_t round_steps = 100;
  uint64_t seed = 0;
  bool deterministic = true;
  jobspec::Device device = jobspec::Device::kCpu;  // resources.device
  uint32_t gpus = 1;                  // resources.gpus: ranks inside the worker, one per GPU (ddp over NCCL)
  bool bf16 = false;                  // precision: bf16 (CUDA autocast)
  jobspec::Strategy strategy = jobspec::Strategy::kSingle;
  int64_t inner_steps = 50;
  double outer_lr = 0.7, outer_momentum = 0.9;
  bool compress_int8 = false;
  Aggregate aggregate = Aggregate::kMean;  // how peers' pseudo-gradients are combined (train/aggregate.h)
  uint32_t checkpoint_every = 10;
  uint32_t chain_every = 50;          // steps between fingerprints in a receipt's step chain (verify.chain_every);
                                      // 0: verification off, the round commits to nothing a replay would check
};

StatusOr<TrainConfig> ConfigFromSpec(const jobspec::JobSpec& spec);

// The inner learning rate at optimizer step t (1-based) of `total`: a linear
// ramp lr*t/warmup over the first warmup_steps, then cosine from lr to lr/10
// over the remaining steps (or lr, constant).
double LearningRateAt(const TrainConfig& cfg, int64_t t, int64_t total);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_TRAIN_CONFIG_H_
