#include "serve/openai_api.h"

#include <nlohmann/json.hpp>

#include "serve/openai_fields.h"

namespace cairn::serve {

using internal::Dump;
using internal::Field;
using internal::OnlyKnownFields;
using internal::ParseShared;
using internal::SharedFields;
using nlohmann::json;

StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  RETURN_IF_ERROR(OnlyKnownFields(
      j,
      {"model", "prompt", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "logprobs", "echo",
       "stop", "presence_penalty", "frequency_penalty", "logit_bias", "user", "seed", "best_of", "suffix"},
      {}));
  CompletionRequest r;
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return Field("model", "is required (a served model's name)");
  }
  r.model = j["model"];
  if (j.contains("suffix") && !j["suffix"].is_null() && !(j["suffix"].is_string() && j["suffix"].get<std::string>().empty())) {
    return Field("suffix", "is not supported: cairn's models generate after the prompt, they do not fill in the middle");
  }
  if (j.contains("best_of") && !j["best_of"].is_null() && (!j["best_of"].is_number_integer() || j["best_of"].get<int64_t>() != 1)) {
    return Field("best_of", "only best_of = 1 is supported (ask for n completions and choose yourself)");
  }
  // A string, a list of strings, a list of token ids, or a list of lists of them.
  auto ids = [](const json& list, std::string* out) -> Status {
    for (const auto& t : list) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > 255) {
        return Field("prompt", "token ids must be integers from 0 to 255 (cairn's text models have 256 byte tokens)");
      }
      out->push_back(static_cast<char>(t.get<int64_t>()));
    }
    return OkStatus();
  };
  if (!j.contains("prompt") || j["prompt"].is_null()) {
    r.prompts = {""};
  } else if (const json& p = j["prompt"]; p.is_string()) {
    r.prompts = {p.get<std::string>()};
  } else if (p.is_array() && !p.empty() && p[0].is_number()) {
    r.prompts.emplace_back();
    RETURN_IF_ERROR(ids(p, &r.prompts.back()));
  } else if (p.is_array() && !p.empty()) {
    for (const auto& e : p) {
      r.prompts.emplace_back();
      if (e.is_string()) {
        r.prompts.back() = e.get<std::string>();
      } else if (e.is_array() && !e.empty()) {
        RETURN_IF_ERROR(ids(e, &r.prompts.back()));
      } else {
        return Field("prompt", "must be a string, a list of strings, a list of token ids, or a list of lists of token ids");
      }
    }
  } else {
    return Field("prompt", "must be a string, a list of strings, a list of token ids, or a list of lists of token ids");
  }
  for (const auto& p : r.prompts) {
    if (p.size() > 64 * 1024) return Field("prompt", "longer than 65536 bytes");
  }
  SharedFields shared;
  RETURN_IF_ERROR(ParseShared(j, &r.options, &shared));
  r.n = shared.n;
  r.stream = shared.stream;
  r.include_usage = shared.include_usage;
  r.user = shared.user;
  if (r.prompts.size() * static_cast<size_t>(r.n) > internal::kMaxChoices) {
    return Field("n", std::to_string(r.prompts.size()) + " prompts x n = " + std::to_string(r.n) + " completions; at most " +
                          std::to_string(internal::kMaxChoices) + " per request");
  }
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    if (!j["logprobs"].is_number_integer() || j["logprobs"].get<int64_t>() < 0 || j["logprobs"].get<int64_t>() > 5) {
      return Field("logprobs", "must be an integer from 0 to 5 (the alternatives listed per token)");
    }
    r.options.top_logprobs = j["logprobs"].get<int>();
  }
  if (j.contains("echo") && !j["echo"].is_null()) {
    if (!j["echo"].is_boolean()) return Field("echo", "must be true or false");
    r.echo = j["echo"];
  }
  r.options.prompt_logprobs = r.echo && r.options.top_logprobs >= 0;
  return r;
}

uint64_t CompletionRequest::WorstCaseTokens() const {
  uint64_t total = 0;
  for (const auto& p : prompts) total += (p.size() + static_cast<uint64_t>(options.max_tokens)) * static_cast<uint64_t>(n);
  return total;
}

std::string TokenText(int64_t token) { return std::string(1, static_cast<char>(token)); }

namespace {

// The completions API's logprobs object for `tokens`, whose text starts at
// byte `offset` of the choice's text.
json CompletionLogprobs(const std::vector<TokenLogprob>& tokens, size_t offset) {
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const auto& t : tokens) {
    out["tokens"].push_back(TokenText(t.token));
    out["token_logprobs"].push_back(t.logprob ? json(*t.logprob) : json(nullptr));
    if (!t.logprob) {
      out["top_logprobs"].push_back(nullptr);
    } else {
      json top = json::object();
      for (const auto& [token, lp] : t.top) top[TokenText(token)] = lp;
      out["top_logprobs"].push_back(top);
    }
    out["text_offset"].push_back(offset++);
  }
  return out;
}

json Usage(int64_t prompt, int64_t completion) {
  return {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}};
}

}  // namespace

std::string CompletionResponse(const std::string& id, int64_t created, const CompletionRequest& r,
                               const std::vector<Generation>& choices) {
  json list = json::array();
  int64_t prompt_tokens = 0, completion_tokens = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const Generation& g = choices[i];
    const std::string& prompt = r.prompts[std::min(i / static_cast<size_t>(r.n), r.prompts.size() - 1)];
    json logprobs = nullptr;
    if (r.options.top_logprobs >= 0) {
      std::vector<TokenLogprob> all = r.echo ? g.prompt_logprobs : std::vector<TokenLogprob>{};
      all.insert(all.end(), g.logprobs.begin(), g.logprobs.end());
      logprobs = CompletionLogprobs(all, 0);
    }
    list.push_back({{"text", r.echo ? prompt + g.text : g.text},
                    {"index", i},
                    {"logprobs", logprobs},
                    {"finish_reason", g.finish_reason}});
    if (i % static_cast<size_t>(r.n) == 0) prompt_tokens += g.prompt_tokens;  // each prompt counts once
    completion_tokens += g.completion_tokens;
  }
  return Dump({{"id", id},
               {"object", "text_completion"},
               {"created", created},
               {"model", r.model},
               {"system_fingerprint", nullptr},
               {"choices", list},
               {"usage", Usage(prompt_tokens, completion_tokens)}});
}

std::string CompletionChunk(const std::string& id, int64_t created, const std::string& model, int index,
                            const std::string& text, const std::string& finish_reason,
                            const std::vector<TokenLogprob>* logprobs, size_t text_offset) {
  json choice = {{"text", text}, {"index", index}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (logprobs) choice["logprobs"] = CompletionLogprobs(*logprobs, text_offset);
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
               {"usage", Usage(prompt_tokens, completion_tokens)}});
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

namespace {

json ModelJson(const ListedModel& m) {
  return {{"id", m.id},
          {"object", "model"},
          {"created", m.created},
          {"owned_by", m.owned_by},
          {"license", m.license},
          {"pricing", {{"per_request_micros", m.per_request_micros},
                       {"per_1k_tokens_micros", m.per_1k_tokens_micros},
                       {"finetune_fee_micros", m.finetune_fee_micros}}}};
}

}  // namespace

std::string ModelList(const std::vector<ListedModel>& models) {
  json data = json::array();
  for (const auto& m : models) data.push_back(ModelJson(m));
  return Dump({{"object", "list"}, {"data", data}});
}

std::string ModelObject(const ListedModel& model) { return Dump(ModelJson(model)); }

}  // namespace cairn::serve
