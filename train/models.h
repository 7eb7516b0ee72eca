// The models a job can train: built-in `mlp` and `cnn` (image
// classification, [B,1,H,W] uint8-derived floats -> [B,classes] logits),
// `char-gpt` (a decoder-only transformer over bytes, [B,T] int64 ->
// [B,T,256] logits), and a user's TorchScript module whose forward returns
// logits. Every model can export itself as a TorchScript module that runs
// with plain LibTorch: built-ins by compiling TorchScript source written
// here over their trained parameters (the C++ frontend cannot trace).
//
// Includes <torch/torch.h>: include from train/*.cc only.
// Thread safety: a Model is used by one training thread.
#ifndef CAIRN_TRAIN_MODELS_H_
#define CAIRN_TRAIN_MODELS_H_

#include <memory>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "runtime/base/statusor.h"
#include "train/train_config.h"

namespace cairn::train {

enum class Task { kImageClassification, kLanguageModel };

class Model {
 public:
  virtual ~Model() = default;
  virtual torch::Tensor Forward(const torch::Tensor& x) = 0;
  // Trainable parameters in a fixed order (the fingerprint's order).
  virtual std::vector<torch::Tensor> Parameters() = 0;
  // The same, named as in the exported TorchScript module ("fc0_weight").
  virtual std::vector<std::pair<std::string, torch::Tensor>> NamedParameters() = 0;
  virtual void Train(bool on) = 0;
  // Moves the parameters to `device` (training on CUDA).
  virtual void To(const torch::Device& device) = 0;
  // A self-contained TorchScript module (model.pt bytes).
  virtual StatusOr<std::string> ExportTorchScript() = 0;
  virtual Task task() const = 0;
};

struct ModelShape {
  int64_t channels = 1, rows = 28, cols = 28, classes = 10;  // images
};

// Builds a freshly initialised model (seeded by the caller's torch seed).
StatusOr<std::unique_ptr<Model>> BuildModel(const TrainConfig& config, const ModelShape& shape);

// Fine-tuning: copies a registered model's parameters (its TorchScript
// bytes) into `model` by name. InvalidArgument naming the first parameter
// that is missing or has another shape (a parent of another architecture).
Status InitFromTorchScript(Model& model, const std::string& torchscript);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_MODELS_H_
