// A registered model loaded for serving: TorchScript bytes (as `cairn models
// pull` writes them) run with LibTorch. cairn's own exports carry a
// `cairn_meta()` method saying what the model is (serve needs no job spec):
//   image-classification  input [C, H, W] floats in [0, 1] -> logits [classes]
//   text-generation       bytes (vocab 256), context T -> next-byte logits
// A user's TorchScript module without it is served as a plain tensor model.
// This header is free of LibTorch.
// Thread safety: every method may be called from many threads at once.
#ifndef CAIRN_SERVE_INFERENCE_MODEL_H_
#define CAIRN_SERVE_INFERENCE_MODEL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::serve {

enum class ModelTask { kImageClassification, kTextGeneration, kTensor };
const char* ModelTaskName(ModelTask t);

// Where a served model runs. kAuto: the first CUDA device when LibTorch sees
// one, else the CPU.
enum class ServeDevice { kAuto, kCpu, kCuda };
// "auto" | "cpu" | "cuda"; InvalidArgument naming the choices otherwise.
StatusOr<ServeDevice> ParseServeDevice(const std::string& name);

struct ModelInfo {
  ModelTask task = ModelTask::kTensor;
  std::string device = "cpu";        // where it was placed: "cpu" or "cuda:0"
  std::vector<int64_t> input_shape;  // per example, without the batch dimension ({} if unknown)
  int64_t classes = 0;
  int64_t context = 0, vocab = 0;    // text-generation
  std::string chat_template = "roles";  // text-generation: how chat messages become a prompt (serve/chat_template.h)
};

// A dense fp32 tensor, row-major.
struct FloatTensor {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

struct GenerateOptions {
  int64_t max_tokens = 16;
  double temperature = 1.0;  // 0: greedy
  double top_p = 1.0;        // nucleus sampling mass
  std::vector<std::string> stop;
  std::optional<uint64_t> seed;
  // The logits are adjusted before sampling, as OpenAI documents it:
  // logit[t] += logit_bias[t] - frequency_penalty * count[t] - presence_penalty * (count[t] > 0),
  // count[t] being how often t was generated so far.
  std::map<int64_t, double> logit_bias;  // token -> [-100, 100]
  double presence_penalty = 0, frequency_penalty = 0;  // [-2, 2]
  // Logprobs: -1 none; k >= 0: each generated token's log probability (under
  // the adjusted logits, before temperature) and its k most likely alternatives.
  int top_logprobs = -1;
  bool prompt_logprobs = false;  // also every prompt token's (the first has none)
};

// A token with its log probability and the most likely alternatives.
struct TokenLogprob {
  int64_t token = 0;
  std::optional<double> logprob;  // none for the first prompt token
  std::vector<std::pair<int64_t, double>> top;
};

struct Generation {
  std::string text;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;  // "length" | "stop"
  std::vector<TokenLogprob> logprobs;         // one per byte of `text` (top_logprobs >= 0)
  std::vector<TokenLogprob> prompt_logprobs;  // one per prompt token (prompt_logprobs)
};

class InferenceModel {
 public:
  virtual ~InferenceModel() = default;
  // InvalidArgument if the bytes are not a loadable TorchScript module or its
  // metadata is malformed.
  // FailedPrecondition for kCuda where LibTorch has no CUDA device.
  static StatusOr<std::unique_ptr<InferenceModel>> Load(const std::string& torchscript,
                                                        ServeDevice device = ServeDevice::kAuto);

  virtual const ModelInfo& info() const = 0;
  // Runs a batch: `in.shape` = {N, ...}; returns the output tensor. Checks
  // the shape against info().input_shape when known.
  virtual StatusOr<FloatTensor> Forward(const FloatTensor& in) const = 0;
  // Text models: samples up to max_tokens bytes after `prompt` (a byte is a
  // token). `on_text` gets each new piece of valid UTF-8 as it is decided (a
  // byte that starts a multi-byte character waits for the rest) with the
  // logprobs of its bytes (when asked for); returning false stops early.
  using OnText = std::function<bool(const std::string& piece, const std::vector<TokenLogprob>& logprobs)>;
  virtual StatusOr<Generation> Generate(const std::string& prompt, const GenerateOptions& options,
                                        const OnText& on_text = {}) const = 0;
};

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_INFERENCE_MODEL_H_
