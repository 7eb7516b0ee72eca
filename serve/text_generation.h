// Sampling text from a byte-level TorchScript language model (the engine
// behind InferenceModel::Generate; serve/inference_model.h has the
// contract). Internal to serve/: includes LibTorch.
// Thread safety: GenerateText may run on many threads at once over one module
// (each call has its own generator).
#ifndef CAIRN_SERVE_TEXT_GENERATION_H_
#define CAIRN_SERVE_TEXT_GENERATION_H_

#include <torch/script.h>

#include "serve/inference_model.h"

namespace cairn::serve::internal {

StatusOr<Generation> GenerateText(torch::jit::Module& module, const ModelInfo& info, const torch::Device& device,
                                  const std::string& prompt, const GenerateOptions& o, const InferenceModel::OnText& on_text);

}  // namespace cairn::serve::internal

#endif  // CAIRN_SERVE_TEXT_GENERATION_H_
