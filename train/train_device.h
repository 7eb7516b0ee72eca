// Where a training task's tensors live, and what that device must be told
// before the first step: the CUDA side of the training engine.
//   - the model, optimizer state and batches live on the device; what
//     leaves the process (checkpoints, fingerprints' inputs, pseudo-gradient
//     bytes, receipts' state) is staged through host memory by its writer;
//   - deterministic mode on CUDA: deterministic algorithms, cuBLAS's fixed
//     workspace (PinCublasWorkspace, train/profile.h, at process start),
//     cuDNN deterministic and unbenchmarked, no TF32, and the seeds
//     the loop already derives from the job (at::manual_seed seeds every
//     device), so two runs on the same GPU model give the same bits;
//   - precision bf16: autocast to bf16 around the forward pass and the loss;
//     the parameters, gradients and AdamW moments stay fp32.
// No CUDA headers: LibTorch's device-generic calls only, so this builds
// with or without a CUDA toolkit. Include from train/*.cc only.
// Thread safety: PrepareDevice sets process-wide LibTorch flags (the same
// values from every thread); SeedRound may run on several ranks' threads.
#ifndef CAIRN_TRAIN_TRAIN_DEVICE_H_
#define CAIRN_TRAIN_TRAIN_DEVICE_H_

#include <string>

#include <torch/torch.h>

#include "runtime/base/statusor.h"
#include "train/train_config.h"

namespace cairn::train {

// The device `cfg` trains on (CUDA device `index` for resources.device:
// cuda), prepared for deterministic runs when cfg.deterministic.
// FailedPrecondition, naming what is missing, where CUDA is asked for but
// this process cannot use it.
StatusOr<torch::Device> PrepareDevice(const TrainConfig& cfg, int index);

// The determinism profile's device part: "cpu", or
// "cuda:<name>;cc=<major.minor>" (train/profile.h).
std::string DeviceProfile(const torch::Device& device);

// Seeds the randomness of a round's steps (dropout): on CUDA, this device's
// generator alone, so that ranks on other GPUs of the process (local ranks)
// keep their own streams; on the CPU, the process's generators.
void SeedRound(const torch::Device& device, uint64_t seed);

// bf16 autocast on CUDA for its lifetime, when `on`.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, bool on);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_TRAIN_DEVICE_H_
