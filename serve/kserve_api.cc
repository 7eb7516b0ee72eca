#include "serve/kserve_api.h"

#include "serve/kserve_fast.h"

#include <nlohmann/json.hpp>

namespace cairn::serve {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

bool NumericType(const std::string& t) {
  static const char* kTypes[] = {"FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64"};
  for (const char* k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

// Appends the numbers of a flat or nested array; false on a non-number.
bool Flatten(const json& v, std::vector<float>* out, size_t limit, int depth) {
  if (depth > 32) return false;
  if (v.is_array()) {
    for (const auto& e : v) {
      if (!Flatten(e, out, limit, depth + 1)) return false;
    }
    return true;
  }
  if (!v.is_number() || out->size() >= limit) return false;
  out->push_back(v.get<float>());
  return true;
}

}  // namespace

StatusOr<InferRequest> ParseInferRequest(std::string_view body) {
  if (auto fast = internal::ParseInferRequestFast(body)) return std::move(*fast);
  return internal::ParseInferRequestComplete(body);
}

namespace internal {

StatusOr<InferRequest> ParseInferRequestComplete(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  InferRequest r;
  if (j.contains("id")) {
    if (!j["id"].is_string()) return InvalidArgumentError("id: must be a string");
    r.id = j["id"];
  }
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty()) {
    return InvalidArgumentError("inputs: must be a non-empty list of tensors");
  }
  if (j["inputs"].size() != 1) return InvalidArgumentError("inputs: this model takes exactly one input tensor");
  const json& in = j["inputs"][0];
  if (!in.is_object()) return InvalidArgumentError("inputs[0]: must be an object");
  if (!in.contains("name") || !in["name"].is_string()) return InvalidArgumentError("inputs[0].name: is required");
  r.input_name = in["name"];
  if (!in.contains("datatype") || !in["datatype"].is_string()) return InvalidArgumentError("inputs[0].datatype: is required");
  const std::string type = in["datatype"];
  if (!NumericType(type)) return InvalidArgumentError("inputs[0].datatype: " + type + " is not supported (use FP32)");
  if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty() || in["shape"].size() > 8) {
    return InvalidArgumentError("inputs[0].shape: must be a list of 1 to 8 dimensions");
  }
  size_t count = 1;
  for (const auto& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1) return InvalidArgumentError("inputs[0].shape: dimensions must be positive integers");
    const int64_t v = d;
    if (static_cast<uint64_t>(v) > kMaxInferValues || count * static_cast<size_t>(v) > kMaxInferValues) {
      return InvalidArgumentError("inputs[0].shape: more than " + std::to_string(kMaxInferValues) + " values");
    }
    count *= static_cast<size_t>(v);
    r.input.shape.push_back(v);
  }
  if (!in.contains("data")) return InvalidArgumentError("inputs[0].data: is required");
  r.input.data.reserve(count);
  if (!Flatten(in["data"], &r.input.data, count + 1, 0)) {
    return InvalidArgumentError("inputs[0].data: must be numbers (flat or nested), at most the shape's " + std::to_string(count));
  }
  if (r.input.data.size() != count) {
    return InvalidArgumentError("inputs[0].data: has " + std::to_string(r.input.data.size()) + " values; shape needs " +
                                std::to_string(count));
  }
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) return InvalidArgumentError("outputs: must be a list");
    for (const auto& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || o["name"] != "logits") {
        return InvalidArgumentError("outputs: this model has one output, \"logits\"");
      }
    }
  }
  return r;
}

}  // namespace internal

std::string InferResponse(const std::string& model, const std::string& id, const FloatTensor& out) {
  json o = {{"name", "logits"}, {"shape", out.shape}, {"datatype", "FP32"}, {"data", out.data}};
  json j = {{"model_name", model}, {"outputs", json::array({o})}};
  if (!id.empty()) j["id"] = id;
  return Dump(j);
}

std::string KServeError(const std::string& message) { return Dump({{"error", message}}); }

std::string ModelMetadata(const std::string& name, const ModelInfo& info) {
  std::vector<int64_t> in{-1}, out{-1};
  in.insert(in.end(), info.input_shape.begin(), info.input_shape.end());
  if (info.classes > 0) out.push_back(info.classes);
  return Dump({{"name", name},
               {"versions", json::array({"1"})},
               {"platform", "pytorch_torchscript"},
               {"inputs", json::array({{{"name", "input"}, {"datatype", "FP32"}, {"shape", in}}})},
               {"outputs", json::array({{{"name", "logits"}, {"datatype", "FP32"}, {"shape", out}}})}});
}

}  // namespace cairn::serve
