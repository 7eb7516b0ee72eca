// The KServe v2 Open Inference Protocol (REST) for tensor models:
//   POST /v2/models/{name}/infer
//     {"id"?, "inputs": [{"name", "shape": [..], "datatype": "FP32", "data": [..]}],
//      "outputs"?: [{"name"}]}
//   -> {"model_name", "id", "outputs": [{"name": "logits", "shape", "datatype": "FP32", "data"}]}
// Numeric datatypes (FP16 excepted) are accepted and converted to fp32; data
// may be flat or nested row-major. Errors are {"error": "message"}.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_KSERVE_API_H_
#define CAIRN_SERVE_KSERVE_API_H_

#include <string>
#include <string_view>

#include "serve/inference_model.h"

namespace cairn::serve {

struct InferRequest {
  std::string id;
  std::string input_name;
  FloatTensor input;
};

inline constexpr size_t kMaxInferValues = 16u << 20;  // 16M values per request

// InvalidArgument naming the field for anything malformed.
StatusOr<InferRequest> ParseInferRequest(std::string_view body);
std::string InferResponse(const std::string& model, const std::string& id, const FloatTensor& out);
std::string KServeError(const std::string& message);
// GET /v2/models/{name}: name, versions, platform, inputs, outputs.
std::string ModelMetadata(const std::string& name, const ModelInfo& info);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_KSERVE_API_H_
