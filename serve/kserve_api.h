// The KServe v2 Open Inference Protocol (REST), as Triton's clients speak it:
//   POST /v2/models/{name}[/versions/1]/infer
//     {"id"?, "inputs": [{"name", "shape", "datatype", "data" | "parameters":
//      {"binary_data_size"}}], "outputs"?: [{"name", "parameters"?:
//      {"binary_data"}}], "parameters"?: {"binary_data_output", and for text
//      models "max_tokens", "temperature", "top_p", "seed", "stop"}}
//     followed, with the Inference-Header-Content-Length header, by binary
//     tensor data (serve/kserve_binary.h).
//   -> {"model_name", "model_version", "id", "outputs": [{"name", "shape",
//       "datatype", "data" | "parameters": {"binary_data_size"}}],
//       "parameters"?: {"prompt_tokens", "completion_tokens"} (text models)}
// Tensor models take one numeric input (FP16/BF16/FP32/FP64, integers;
// converted to fp32; JSON data flat or nested) and answer "logits" (FP32).
// Text models take one BYTES input of prompts and answer "text_output"
// (BYTES) of the same shape. Errors are {"error": "message"}.
// docs/serving.md has the field table.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_KSERVE_API_H_
#define CAIRN_SERVE_KSERVE_API_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "serve/inference_model.h"

namespace cairn::serve {

struct InferRequest {
  std::string id;
  std::string input_name;
  std::string datatype = "FP32";
  FloatTensor input;                 // numeric data as fp32; for BYTES only the shape
  std::vector<std::string> strings;  // BYTES elements
  std::string output_name;           // "" when the request names no output
  bool binary_output = false;        // answer with binary tensor data
  // Text models: generation parameters (`generation_parameters`: any given).
  GenerateOptions generate;
  bool generation_parameters = false;
};

inline constexpr size_t kMaxInferValues = 16u << 20;  // 16M values per request

// `body` with the request's Inference-Header-Content-Length value ("" when
// absent). InvalidArgument naming the field or header for anything malformed.
StatusOr<InferRequest> ParseInferRequest(std::string_view body, const std::string& header_length = "");

// A response body, and the JSON header's length when it carries binary data.
struct InferReply {
  std::string body;
  std::optional<size_t> header_length;
};
struct OutputTensor {
  std::string name, datatype;  // "FP32" (`values`) or "BYTES" (`strings`)
  std::vector<int64_t> shape;
  std::vector<float> values;
  std::vector<std::string> strings;
};
struct InferUsage {
  int64_t prompt_tokens = 0, completion_tokens = 0;
};
InferReply InferResponse(const std::string& model, const std::string& id, const OutputTensor& out, bool binary,
                         const std::optional<InferUsage>& usage = std::nullopt);
// A tensor model's logits.
InferReply InferResponse(const std::string& model, const std::string& id, const FloatTensor& out, bool binary = false);

std::string KServeError(const std::string& message);
// GET /v2/models/{name}: name, versions, platform, inputs, outputs.
std::string ModelMetadata(const std::string& name, const ModelInfo& info);
// GET /v2: the server's name, version and extensions.
std::string ServerMetadata();
// GET /v2/models/{name}/config: Triton's model configuration.
std::string ModelConfig(const std::string& name, const ModelInfo& info, int64_t max_batch);
// The input and output names a model's metadata shows.
std::string InputName(const ModelInfo& info);
std::string OutputName(const ModelInfo& info);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_KSERVE_API_H_
