#include "serve/openai_chat.h"

#include "serve/openai_api.h"
#include "serve/openai_fields.h"

namespace cairn::serve {

using internal::Dump;
using internal::Field;
using nlohmann::json;

namespace {

constexpr size_t kTemplateBytesPerMessage = 16;  // "Assistant: " and a newline, and then some

// The chat logprobs object: {"content": [{token, logprob, bytes, top_logprobs}], "refusal": null}.
json ChatLogprobs(const std::vector<TokenLogprob>& tokens) {
  json content = json::array();
  auto entry = [](int64_t token, double logprob) {
    return json{{"token", TokenText(token)}, {"logprob", logprob}, {"bytes", json::array({token})}};
  };
  for (const auto& t : tokens) {
    json e = entry(t.token, t.logprob.value_or(0));
    e["top_logprobs"] = json::array();
    for (const auto& [token, lp] : t.top) e["top_logprobs"].push_back(entry(token, lp));
    content.push_back(e);
  }
  return {{"content", content}, {"refusal", nullptr}};
}

json Chunk(const std::string& id, int64_t created, const std::string& model, json choices) {
  return {{"id", id}, {"object", "chat.completion.chunk"}, {"created", created}, {"model", model},
          {"system_fingerprint", nullptr}, {"choices", std::move(choices)}};
}

}  // namespace

StatusOr<ChatRequest> ParseChatRequest(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, false);
  if (j.is_discarded()) return InvalidArgumentError("the body is not valid JSON");
  if (!j.is_object()) return InvalidArgumentError("the body must be a JSON object");
  RETURN_IF_ERROR(internal::OnlyKnownFields(
      j,
      {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "n", "stream",
       "stream_options", "stop", "seed", "logprobs", "top_logprobs", "presence_penalty", "frequency_penalty",
       "logit_bias", "user", "response_format"},
      {{"tools", "tool calls are not supported by cairn's text models"},
       {"tool_choice", "tool calls are not supported by cairn's text models"},
       {"parallel_tool_calls", "tool calls are not supported by cairn's text models"},
       {"functions", "function calls are not supported by cairn's text models"},
       {"function_call", "function calls are not supported by cairn's text models"},
       {"audio", "audio output is not supported"},
       {"modalities", "only text is supported"},
       {"prediction", "predicted outputs are not supported"},
       {"reasoning_effort", "cairn's models do not reason in separate tokens"},
       {"web_search_options", "web search is not supported"}}));
  ChatRequest r;
  if (!j.contains("model") || !j["model"].is_string() || j["model"].get<std::string>().empty()) {
    return Field("model", "is required (a served model's name)");
  }
  r.model = j["model"];
  if (!j.contains("messages") || !j["messages"].is_array() || j["messages"].empty()) {
    return Field("messages", "is required: a non-empty list of {role, content}");
  }
  if (j["messages"].size() > 1024) return Field("messages", "has more than 1024 messages");
  size_t total = 0;
  for (size_t i = 0; i < j["messages"].size(); ++i) {
    const json& m = j["messages"][i];
    const std::string at = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Field(at, "must be an object {role, content}");
    for (const auto& [key, value] : m.items()) {
      if (key != "role" && key != "content" && key != "name") {
        return Field(at + "." + key, key == "tool_calls" || key == "tool_call_id" ? "tool calls are not supported"
                                                                                   : "is not a field cairn knows");
      }
    }
    if (!m.contains("role") || !m["role"].is_string()) return Field(at + ".role", "is required");
    ChatMessage msg;
    msg.role = m["role"];
    if (msg.role != "system" && msg.role != "developer" && msg.role != "user" && msg.role != "assistant") {
      return Field(at + ".role", "must be system, developer, user or assistant (tools are not supported), got '" +
                                     msg.role.substr(0, 32) + "'");
    }
    const json& c = m.contains("content") ? m["content"] : json(nullptr);
    if (c.is_string()) {
      msg.content = c;
    } else if (c.is_array()) {
      for (const auto& part : c) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) {
          return Field(at + ".content", "parts must be {\"type\": \"text\", \"text\": ...}: images, audio and files are not supported");
        }
        msg.content += part["text"].get<std::string>();
      }
    } else if (!(c.is_null() && msg.role == "assistant")) {
      return Field(at + ".content", "must be a string or a list of text parts");
    }
    total += msg.content.size();
    r.messages.push_back(std::move(msg));
  }
  if (total > 64 * 1024) return Field("messages", "hold more than 65536 bytes");
  internal::SharedFields shared;
  RETURN_IF_ERROR(internal::ParseShared(j, &r.options, &shared));
  r.n = shared.n;
  r.stream = shared.stream;
  r.include_usage = shared.include_usage;
  r.user = shared.user;
  bool logprobs = false;
  if (j.contains("logprobs") && !j["logprobs"].is_null()) {
    if (!j["logprobs"].is_boolean()) return Field("logprobs", "must be true or false");
    logprobs = j["logprobs"];
  }
  int top = 0;
  if (j.contains("top_logprobs") && !j["top_logprobs"].is_null()) {
    if (!j["top_logprobs"].is_number_integer() || j["top_logprobs"].get<int64_t>() < 0 || j["top_logprobs"].get<int64_t>() > 20) {
      return Field("top_logprobs", "must be an integer from 0 to 20");
    }
    if (!logprobs) return Field("top_logprobs", "needs logprobs: true");
    top = j["top_logprobs"];
  }
  r.options.top_logprobs = logprobs ? top : -1;
  if (j.contains("response_format") && !j["response_format"].is_null()) {
    const json& f = j["response_format"];
    if (!f.is_object() || f.value("type", "") != "text") {
      return Field("response_format", "only {\"type\": \"text\"} is supported (no JSON mode or schemas)");
    }
  }
  return r;
}

uint64_t ChatRequest::WorstCaseTokens() const {
  uint64_t prompt = 16;
  for (const auto& m : messages) prompt += m.content.size() + kTemplateBytesPerMessage;
  return prompt + static_cast<uint64_t>(options.max_tokens) * static_cast<uint64_t>(n);
}

std::string ChatResponse(const std::string& id, int64_t created, const std::string& model,
                         const std::vector<Generation>& choices, bool logprobs) {
  json list = json::array();
  int64_t completion = 0;
  for (size_t i = 0; i < choices.size(); ++i) {
    const Generation& g = choices[i];
    list.push_back({{"index", i},
                    {"message", {{"role", "assistant"}, {"content", g.text}, {"refusal", nullptr}}},
                    {"logprobs", logprobs ? ChatLogprobs(g.logprobs) : json(nullptr)},
                    {"finish_reason", g.finish_reason}});
    completion += g.completion_tokens;
  }
  const int64_t prompt = choices.empty() ? 0 : choices[0].prompt_tokens;  // one prompt for every choice
  return Dump({{"id", id},
               {"object", "chat.completion"},
               {"created", created},
               {"model", model},
               {"system_fingerprint", nullptr},
               {"choices", list},
               {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", completion}, {"total_tokens", prompt + completion}}}});
}

std::string ChatRoleChunk(const std::string& id, int64_t created, const std::string& model, int index) {
  return Dump(Chunk(id, created, model,
                    json::array({{{"index", index},
                                  {"delta", {{"role", "assistant"}, {"content", ""}}},
                                  {"logprobs", nullptr},
                                  {"finish_reason", nullptr}}})));
}

std::string ChatContentChunk(const std::string& id, int64_t created, const std::string& model, int index,
                             const std::string& content, const std::vector<TokenLogprob>* logprobs) {
  return Dump(Chunk(id, created, model,
                    json::array({{{"index", index},
                                  {"delta", {{"content", content}}},
                                  {"logprobs", logprobs ? ChatLogprobs(*logprobs) : json(nullptr)},
                                  {"finish_reason", nullptr}}})));
}

std::string ChatFinishChunk(const std::string& id, int64_t created, const std::string& model, int index,
                            const std::string& finish_reason) {
  return Dump(Chunk(id, created, model,
                    json::array({{{"index", index}, {"delta", json::object()}, {"logprobs", nullptr},
                                  {"finish_reason", finish_reason}}})));
}

std::string ChatUsageChunk(const std::string& id, int64_t created, const std::string& model, int64_t prompt_tokens,
                           int64_t completion_tokens) {
  json c = Chunk(id, created, model, json::array());
  c["usage"] = {{"prompt_tokens", prompt_tokens},
                {"completion_tokens", completion_tokens},
                {"total_tokens", prompt_tokens + completion_tokens}};
  return Dump(c);
}

}  // namespace cairn::serve
