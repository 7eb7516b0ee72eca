#include "serve/openai_api.h"

#include <nlohmann/json.hpp>

namespace cairn::serve {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Status Field(const std::string& name, const std::string& problem) { return InvalidArgumentError(name + ": " + problem); }

}  // namespace

StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  CompletionRequest r;
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return Field("model", "is required (a served model's name)");
  }
  r.model = j["model"];
  if (j.contains("prompt")) {
    const json& p = j["prompt"];
    if (p.is_string()) {
      r.prompt = p;
    } else if (p.is_array() && p.size() == 1 && p[0].is_string()) {
      r.prompt = p[0];
    } else if (p.is_array()) {
      return Field("prompt", "only one prompt per request is supported");
    } else {
      return Field("prompt", "must be a string");
    }
  }
  if (r.prompt.size() > 64 * 1024) return Field("prompt", "longer than 65536 bytes");
  auto number = [&](const char* name, double lo, double hi, double* out) -> Status {
    if (!j.contains(name) || j[name].is_null()) return OkStatus();
    if (!j[name].is_number()) return Field(name, "must be a number");
    const double v = j[name];
    if (!(v >= lo && v <= hi)) return Field(name, "must be between " + json(lo).dump() + " and " + json(hi).dump());
    *out = v;
    return OkStatus();
  };
  if (j.contains("max_tokens") && !j["max_tokens"].is_null()) {
    if (!j["max_tokens"].is_number_integer()) return Field("max_tokens", "must be an integer");
    const int64_t v = j["max_tokens"];
    if (v < 0 || v > kMaxCompletionTokens) return Field("max_tokens", "must be between 0 and " + std::to_string(kMaxCompletionTokens));
    r.options.max_tokens = v;
  }
  RETURN_IF_ERROR(number("temperature", 0, 2, &r.options.temperature));
  RETURN_IF_ERROR(number("top_p", 0, 1, &r.options.top_p));
  if (r.options.top_p == 0) return Field("top_p", "must be greater than 0");
  if (j.contains("stop") && !j["stop"].is_null()) {
    const json& s = j["stop"];
    if (s.is_string()) {
      r.options.stop = {s.get<std::string>()};
    } else if (s.is_array() && s.size() <= 4) {
      for (const auto& e : s) {
        if (!e.is_string()) return Field("stop", "must be a string or a list of up to 4 strings");
        r.options.stop.push_back(e);
      }
    } else {
      return Field("stop", "must be a string or a list of up to 4 strings");
    }
  }
  if (j.contains("seed") && !j["seed"].is_null()) {
    if (!j["seed"].is_number_integer()) return Field("seed", "must be an integer");
    r.options.seed = static_cast<uint64_t>(j["seed"].get<int64_t>());
  }
  if (j.contains("n") && !j["n"].is_null() && (!j["n"].is_number_integer() || j["n"].get<int64_t>() != 1)) {
    return Field("n", "only n = 1 is supported");
  }
  if (j.contains("stream") && !j["stream"].is_null()) {
    if (!j["stream"].is_boolean()) return Field("stream", "must be true or false");
    r.stream = j["stream"];
  }
  if (j.contains("stream_options") && j["stream_options"].is_object()) {
    const json& so = j["stream_options"];
    if (so.contains("include_usage")) {
      if (!so["include_usage"].is_boolean()) return Field("stream_options.include_usage", "must be true or false");
      r.include_usage = so["include_usage"];
    }
  }
  return r;
}

std::string CompletionResponse(const std::string& id, int64_t created, const std::string& model, const Generation& g) {
  json j = {{"id", id},
            {"object", "text_completion"},
            {"created", created},
            {"model", model},
            {"choices", json::array({{{"text", g.text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", g.finish_reason}}})},
            {"usage",
             {{"prompt_tokens", g.prompt_tokens},
              {"completion_tokens", g.completion_tokens},
              {"total_tokens", g.prompt_tokens + g.completion_tokens}}}};
  return Dump(j);
}

std::string CompletionChunk(const std::string& id, int64_t created, const std::string& model, const std::string& text,
                            const std::string& finish_reason) {
  json choice = {{"text", text}, {"index", 0}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (!finish_reason.empty()) choice["finish_reason"] = finish_reason;
  return Dump({{"id", id}, {"object", "text_completion"}, {"created", created}, {"model", model},
               {"choices", json::array({choice})}});
}

std::string UsageChunk(const std::string& id, int64_t created, const std::string& model, int64_t prompt_tokens,
                       int64_t completion_tokens) {
  return Dump({{"id", id},
               {"object", "text_completion"},
               {"created", created},
               {"model", model},
               {"choices", json::array()},
               {"usage",
                {{"prompt_tokens", prompt_tokens},
                 {"completion_tokens", completion_tokens},
                 {"total_tokens", prompt_tokens + completion_tokens}}}});
}

std::string OpenAiError(const std::string& message, const std::string& type, const std::string& param,
                        const std::string& code) {
  json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (!param.empty()) e["param"] = param;
  if (!code.empty()) e["code"] = code;
  return Dump({{"error", e}});
}

std::string OpenAiInvalidRequest(const Status& parse_error) {
  const std::string m(parse_error.message());
  const size_t colon = m.find(':');
  const bool named = colon != std::string::npos && m.find(' ') > colon;  // "field: problem"
  return OpenAiError(m, "invalid_request_error", named ? m.substr(0, colon) : "");
}

const char* OpenAiErrorType(int http_status) {
  switch (http_status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "insufficient_quota";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: return http_status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string ModelList(const std::vector<ListedModel>& models) {
  json data = json::array();
  for (const auto& m : models) {
    data.push_back({{"id", m.id},
                    {"object", "model"},
                    {"created", m.created},
                    {"owned_by", m.owned_by},
                    {"license", m.license},
                    {"pricing", {{"per_request_micros", m.per_request_micros},
                                 {"per_1k_tokens_micros", m.per_1k_tokens_micros},
                                 {"finetune_fee_micros", m.finetune_fee_micros}}}});
  }
  return Dump({{"object", "list"}, {"data", data}});
}

}  // namespace cairn::serve
