#include "serve/kserve_api.h"

#include <type_traits>

#include <nlohmann/json.hpp>

#include "serve/kserve_binary.h"
#include "serve/kserve_fast.h"
#include "serve/openai_api.h"

#ifndef CAIRN_VERSION
#define CAIRN_VERSION "dev"
#endif

namespace cairn::serve {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Status Bad(const std::string& field, const std::string& problem) { return InvalidArgumentError(field + ": " + problem); }

// Appends the elements of a flat or nested array (numbers for float,
// strings for std::string); false on an element of another kind, past
// `limit` elements, or nested deeper than 32.
template <typename T>
bool Flatten(const json& v, std::vector<T>* out, size_t limit, int depth = 0) {
  if (depth > 32) return false;
  if (v.is_array()) {
    for (const auto& e : v) {
      if (!Flatten(e, out, limit, depth + 1)) return false;
    }
    return true;
  }
  const bool kind = std::is_same_v<T, std::string> ? v.is_string() : v.is_number();
  if (!kind || out->size() >= limit) return false;
  out->push_back(v.get<T>());
  return true;
}

// The request's "parameters": binary_data_output and generation parameters.
Status Parameters(const json& p, InferRequest* r) {
  if (!p.is_object()) return Bad("parameters", "must be an object");
  GenerateOptions& g = r->generate;
  for (const auto& [key, v] : p.items()) {
    const std::string at = "parameters." + key;
    if (key == "binary_data_output") {
      if (!v.is_boolean()) return Bad(at, "must be true or false");
      r->binary_output = v;
      continue;
    }
    r->generation_parameters = true;
    if (key == "max_tokens") {
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxCompletionTokens) {
        return Bad(at, "must be an integer from 0 to " + std::to_string(kMaxCompletionTokens));
      }
      g.max_tokens = v;
    } else if (key == "temperature") {
      if (!v.is_number() || !(v.get<double>() >= 0 && v.get<double>() <= 2)) return Bad(at, "must be a number from 0 to 2");
      g.temperature = v;
    } else if (key == "top_p") {
      if (!v.is_number() || !(v.get<double>() > 0 && v.get<double>() <= 1)) return Bad(at, "must be a number in (0, 1]");
      g.top_p = v;
    } else if (key == "seed") {
      if (!v.is_number_integer()) return Bad(at, "must be an integer");
      g.seed = static_cast<uint64_t>(v.get<int64_t>());
    } else if (key == "stop") {
      if (!v.is_string() || v.get<std::string>().empty()) return Bad(at, "must be a non-empty string");
      g.stop = {v.get<std::string>()};
    } else {
      return Bad(at, "is not a parameter cairn knows (binary_data_output; for text models max_tokens, temperature, top_p, seed, stop)");
    }
  }
  return OkStatus();
}

StatusOr<InferRequest> ParseComplete(std::string_view header, std::string_view binary, bool framed) {
  json j = json::parse(header.begin(), header.end(), nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError(framed ? "the JSON header is not valid JSON" : "the body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  InferRequest r;
  if (j.contains("id")) {
    if (!j["id"].is_string()) return Bad("id", "must be a string");
    r.id = j["id"];
  }
  if (j.contains("parameters")) RETURN_IF_ERROR(Parameters(j["parameters"], &r));
  if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty()) {
    return Bad("inputs", "must be a non-empty list of tensors");
  }
  if (j["inputs"].size() != 1) return Bad("inputs", "this model takes exactly one input tensor");
  const json& in = j["inputs"][0];
  if (!in.is_object()) return Bad("inputs[0]", "must be an object");
  if (!in.contains("name") || !in["name"].is_string()) return Bad("inputs[0].name", "is required");
  r.input_name = in["name"];
  if (!in.contains("datatype") || !in["datatype"].is_string()) return Bad("inputs[0].datatype", "is required");
  r.datatype = in["datatype"];
  if (!NumericDatatype(r.datatype) && r.datatype != "BYTES") {
    return Bad("inputs[0].datatype", r.datatype.substr(0, 32) + " is not supported (numbers: FP32, FP16, BF16, FP64, "
                                     "INT8-64, UINT8-64; text: BYTES)");
  }
  if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty() || in["shape"].size() > 8) {
    return Bad("inputs[0].shape", "must be a list of 1 to 8 dimensions");
  }
  size_t count = 1;
  for (const auto& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1) return Bad("inputs[0].shape", "dimensions must be positive integers");
    const int64_t v = d;
    if (static_cast<uint64_t>(v) > kMaxInferValues || count * static_cast<size_t>(v) > kMaxInferValues) {
      return Bad("inputs[0].shape", "more than " + std::to_string(kMaxInferValues) + " values");
    }
    count *= static_cast<size_t>(v);
    r.input.shape.push_back(v);
  }
  std::optional<size_t> binary_size;
  if (in.contains("parameters")) {
    const json& p = in["parameters"];
    if (!p.is_object()) return Bad("inputs[0].parameters", "must be an object");
    for (const auto& [key, v] : p.items()) {
      if (key != "binary_data_size") return Bad("inputs[0].parameters." + key, "is not a parameter cairn knows (binary_data_size)");
      if (!v.is_number_unsigned()) return Bad("inputs[0].parameters.binary_data_size", "must be a byte count");
      binary_size = v.get<uint64_t>();
    }
  }
  const bool bytes = r.datatype == "BYTES";
  if (binary_size) {
    if (in.contains("data")) return Bad("inputs[0].data", "cannot be given with parameters.binary_data_size");
    if (!framed) {
      return Bad("inputs[0].parameters.binary_data_size", std::string("binary data needs the ") + kInferenceHeaderLength +
                                                              " header (the length of the JSON before it)");
    }
    if (*binary_size > binary.size()) {
      return Bad("inputs[0].parameters.binary_data_size", std::to_string(*binary_size) + " bytes, but the body has " +
                                                              std::to_string(binary.size()) + " after the JSON header");
    }
    const std::string_view data = binary.substr(0, *binary_size);
    if (bytes) {
      RETURN_IF_ERROR(DecodeBytes(data, count, "inputs[0]", &r.strings));
    } else {
      const size_t need = count * static_cast<size_t>(DatatypeSize(r.datatype));
      if (*binary_size != need) {
        return Bad("inputs[0].parameters.binary_data_size",
                   std::to_string(*binary_size) + " bytes, but the shape holds " + std::to_string(count) + " " + r.datatype +
                       " values, " + std::to_string(need) + " bytes");
      }
      RETURN_IF_ERROR(DecodeNumeric(data, r.datatype, count, "inputs[0]", &r.input.data));
    }
    binary.remove_prefix(*binary_size);
  } else if (!in.contains("data")) {
    return Bad("inputs[0].data", "is required (or parameters.binary_data_size with binary data)");
  } else if (bytes) {
    if (!Flatten(in["data"], &r.strings, count + 1)) {
      return Bad("inputs[0].data", "must be strings (flat or nested), at most the shape's " + std::to_string(count));
    }
    if (r.strings.size() != count) {
      return Bad("inputs[0].data", "has " + std::to_string(r.strings.size()) + " strings; shape needs " + std::to_string(count));
    }
  } else {
    r.input.data.reserve(count);
    if (!Flatten(in["data"], &r.input.data, count + 1)) {
      return Bad("inputs[0].data", "must be numbers (flat or nested), at most the shape's " + std::to_string(count));
    }
    if (r.input.data.size() != count) {
      return Bad("inputs[0].data", "has " + std::to_string(r.input.data.size()) + " values; shape needs " + std::to_string(count));
    }
  }
  if (!binary.empty()) {
    return InvalidArgumentError("the body has " + std::to_string(binary.size()) +
                                " bytes after the JSON header that no input's binary_data_size accounts for");
  }
  if (j.contains("outputs")) {
    const json& outs = j["outputs"];
    if (!outs.is_array() || outs.size() > 1) return Bad("outputs", "must be a list naming at most the model's one output");
    for (const auto& o : outs) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) return Bad("outputs[0].name", "is required");
      r.output_name = o["name"];
      if (!o.contains("parameters")) continue;
      if (!o["parameters"].is_object()) return Bad("outputs[0].parameters", "must be an object");
      for (const auto& [key, v] : o["parameters"].items()) {
        if (key != "binary_data") {
          return Bad("outputs[0].parameters." + key, key == "classification" ? "the classification extension is not supported"
                                                                            : "is not a parameter cairn knows (binary_data)");
        }
        if (!v.is_boolean()) return Bad("outputs[0].parameters.binary_data", "must be true or false");
        r.binary_output = v;  // overrides binary_data_output
      }
    }
  }
  return r;
}

}  // namespace

StatusOr<InferRequest> ParseInferRequest(std::string_view body, const std::string& header_length) {
  auto length = ParseInferenceHeaderLength(header_length, body.size());
  if (!length.ok()) return length.status();
  if (*length) return ParseComplete(body.substr(0, **length), body.substr(**length), true);
  if (auto fast = internal::ParseInferRequestFast(body)) return std::move(*fast);
  return ParseComplete(body, {}, false);
}

namespace internal {

StatusOr<InferRequest> ParseInferRequestComplete(std::string_view body) { return ParseComplete(body, {}, false); }

}  // namespace internal

InferReply InferResponse(const std::string& model, const std::string& id, const OutputTensor& out, bool binary,
                         const std::optional<InferUsage>& usage) {
  json o = {{"name", out.name}, {"shape", out.shape}, {"datatype", out.datatype}};
  std::string tail;
  if (binary) {
    if (out.datatype == "BYTES") {
      AppendBytesElements(out.strings, &tail);
    } else {
      AppendFloats(out.values, &tail);
    }
    o["parameters"] = {{"binary_data_size", tail.size()}};
  } else if (out.datatype == "BYTES") {
    o["data"] = out.strings;
  } else {
    o["data"] = out.values;
  }
  json j = {{"model_name", model}, {"model_version", "1"}, {"outputs", json::array({o})}};
  if (!id.empty()) j["id"] = id;
  if (usage) j["parameters"] = {{"prompt_tokens", usage->prompt_tokens}, {"completion_tokens", usage->completion_tokens}};
  InferReply reply;
  reply.body = Dump(j);
  if (binary) {
    reply.header_length = reply.body.size();
    reply.body += tail;
  }
  return reply;
}

InferReply InferResponse(const std::string& model, const std::string& id, const FloatTensor& out, bool binary) {
  OutputTensor t{"logits", "FP32", out.shape, out.data, {}};
  return InferResponse(model, id, t, binary);
}

std::string KServeError(const std::string& message) { return Dump({{"error", message}}); }

std::string InputName(const ModelInfo& info) { return info.task == ModelTask::kTextGeneration ? "text_input" : "input"; }
std::string OutputName(const ModelInfo& info) { return info.task == ModelTask::kTextGeneration ? "text_output" : "logits"; }

std::string ModelMetadata(const std::string& name, const ModelInfo& info) {
  if (info.task == ModelTask::kTextGeneration) {
    return Dump({{"name", name},
                 {"versions", json::array({"1"})},
                 {"platform", "pytorch_torchscript"},
                 {"inputs", json::array({{{"name", InputName(info)}, {"datatype", "BYTES"}, {"shape", {-1}}}})},
                 {"outputs", json::array({{{"name", OutputName(info)}, {"datatype", "BYTES"}, {"shape", {-1}}}})}});
  }
  std::vector<int64_t> in{-1}, out{-1};
  in.insert(in.end(), info.input_shape.begin(), info.input_shape.end());
  if (info.classes > 0) out.push_back(info.classes);
  return Dump({{"name", name},
               {"versions", json::array({"1"})},
               {"platform", "pytorch_torchscript"},
               {"inputs", json::array({{{"name", InputName(info)}, {"datatype", "FP32"}, {"shape", in}}})},
               {"outputs", json::array({{{"name", OutputName(info)}, {"datatype", "FP32"}, {"shape", out}}})}});
}

std::string ServerMetadata() {
  return Dump({{"name", "cairn"}, {"version", CAIRN_VERSION}, {"extensions", {"binary_tensor_data", "model_configuration"}}});
}

std::string ModelConfig(const std::string& name, const ModelInfo& info, int64_t max_batch) {
  const bool text = info.task == ModelTask::kTextGeneration;
  std::vector<int64_t> in_dims = info.input_shape, out_dims;
  if (info.classes > 0) out_dims.push_back(info.classes);
  if (text) in_dims = out_dims = {-1};
  if (in_dims.empty()) in_dims = {-1};
  if (out_dims.empty()) out_dims = {-1};
  const char* type = text ? "TYPE_STRING" : "TYPE_FP32";
  json j = {{"name", name},
            {"platform", "pytorch_libtorch"},
            {"backend", "pytorch"},
            {"max_batch_size", text ? 0 : max_batch},
            {"input", json::array({{{"name", InputName(info)}, {"data_type", type}, {"dims", in_dims}}})},
            {"output", json::array({{{"name", OutputName(info)}, {"data_type", type}, {"dims", out_dims}}})},
            {"version_policy", {{"specific", {{"versions", {1}}}}}}};
  if (!text) j["dynamic_batching"] = json::object();  // the replica's batcher
  return Dump(j);
}

}  // namespace cairn::serve
