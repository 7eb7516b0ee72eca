#include "serve/openai_fields.h"

#include <cmath>

#include "serve/openai_api.h"

namespace cairn::serve::internal {

Status Field(const std::string& name, const std::string& problem) { return InvalidArgumentError(name + ": " + problem); }

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Status OnlyKnownFields(const json& j, const std::set<std::string>& known, const std::map<std::string, std::string>& refused) {
  for (const auto& [key, value] : j.items()) {
    if (known.count(key)) continue;
    auto why = refused.find(key);
    if (why != refused.end()) {
      if (value.is_null()) continue;  // an explicit null asks for nothing
      return Field(key, why->second);
    }
    return Field(key, "is not a field cairn knows (docs/serving.md lists every field)");
  }
  return OkStatus();
}

Status ParseShared(const json& j, GenerateOptions* o, SharedFields* shared) {
  auto number = [&](const char* name, double lo, double hi, double* out) -> Status {
    if (!j.contains(name) || j[name].is_null()) return OkStatus();
    if (!j[name].is_number()) return Field(name, "must be a number");
    const double v = j[name];
    if (!(v >= lo && v <= hi)) return Field(name, "must be between " + json(lo).dump() + " and " + json(hi).dump());
    *out = v;
    return OkStatus();
  };
  for (const char* name : {"max_tokens", "max_completion_tokens"}) {
    if (!j.contains(name) || j[name].is_null()) continue;
    if (!j[name].is_number_integer()) return Field(name, "must be an integer");
    const int64_t v = j[name];
    if (v < 0 || v > kMaxCompletionTokens) return Field(name, "must be between 0 and " + std::to_string(kMaxCompletionTokens));
    o->max_tokens = v;
  }
  RETURN_IF_ERROR(number("temperature", 0, 2, &o->temperature));
  RETURN_IF_ERROR(number("top_p", 0, 1, &o->top_p));
  if (o->top_p == 0) return Field("top_p", "must be greater than 0");
  RETURN_IF_ERROR(number("presence_penalty", -2, 2, &o->presence_penalty));
  RETURN_IF_ERROR(number("frequency_penalty", -2, 2, &o->frequency_penalty));
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      o->stop = {s.get<std::string>()};
    } else if (s.is_array() && s.size() <= 4) {
      for (const auto& e : s) {
        if (!e.is_string()) return Field("stop", "must be a string or a list of up to 4 strings");
        o->stop.push_back(e);
      }
    } else {
      return Field("stop", "must be a string or a list of up to 4 strings");
    }
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return Field("seed", "must be an integer");
    o->seed = static_cast<uint64_t>(j["seed"].get<int64_t>());
  }
  if (j.contains("logit_bias") && !j["logit_bias"].is_null()) {
    const json& b = j["logit_bias"];
    if (!b.is_object() || b.size() > 300) return Field("logit_bias", "must map token ids to biases (at most 300)");
    for (const auto& [key, value] : b.items()) {
      if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos) {
        return Field("logit_bias", "'" + key.substr(0, 16) + "' is not a token id");
      }
      if (!value.is_number() || !(value.get<double>() >= -100 && value.get<double>() <= 100)) {
        return Field("logit_bias", "the bias of token " + key + " must be a number between -100 and 100");
      }
      const int64_t token = std::stoll(key);
      if (token > 255) return Field("logit_bias", "token " + key + " is outside the vocabulary (cairn's text models have 256 byte tokens)");
      o->logit_bias[token] = value.get<double>();
    }
  }
  if (j.contains("n") && !j["n"].is_null()) {
    if (!j["n"].is_number_integer() || j["n"].get<int64_t>() < 1 || j["n"].get<int64_t>() > kMaxChoices) {
      return Field("n", "must be an integer from 1 to " + std::to_string(kMaxChoices));
    }
    shared->n = j["n"].get<int>();
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return Field("stream", "must be true or false");
    shared->stream = j["stream"];
  }
  if (j.contains("stream_options") && !j["stream_options"].is_null()) {
    const json& so = j["stream_options"];
    if (!so.is_object()) return Field("stream_options", "must be an object");
    if (!shared->stream) return Field("stream_options", "is only allowed with stream: true");
    for (const auto& [key, value] : so.items()) {
      if (key != "include_usage") return Field("stream_options." + key, "is not supported");
    }
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) return Field("stream_options.include_usage", "must be true or false");
      shared->include_usage = so["include_usage"];
    }
  }
  if (j.contains("user") && !j["user"].is_null()) {
    if (!j["user"].is_string() || j["user"].get<std::string>().size() > 256) return Field("user", "must be a string of at most 256 bytes");
    shared->user = j["user"];
  }
  return OkStatus();
}

}  // namespace cairn::serve::internal
