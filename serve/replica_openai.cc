// The replica's OpenAI routes (serve/openai_api.h, serve/openai_chat.h):
// /v1/models[/{id}], /v1/completions and /v1/chat/completions, plain and
// streamed. Choices are generated one after another (prompt-major, then
// n); with a seed, choice k of a prompt draws with seed + k.
#include <httplib.h>

#include "serve/openai_api.h"
#include "serve/openai_chat.h"
#include "serve/replica_internal.h"
#include "serve/replica_server.h"

namespace cairn::serve {

using internal::kJson;
using internal::RandomId;
using internal::UnixSeconds;

namespace {

GenerateOptions ForChoice(GenerateOptions o, int k) {
  if (o.seed) *o.seed += static_cast<uint64_t>(k);
  return o;
}

// The "roles" template leaves the reply's leading space ("Assistant: Hi")
// to the model; the client sees the reply without it. `first` is true until
// some content has been passed on.
void StripLeadingSpace(std::string* text, std::vector<TokenLogprob>* logprobs, bool* first) {
  if (!*first || text->empty()) return;
  if ((*text)[0] == ' ') {
    text->erase(0, 1);
    if (!logprobs->empty()) logprobs->erase(logprobs->begin());
  }
  if (!text->empty()) *first = false;
}

// Sends one server-sent event; false once the client has gone.
bool Send(httplib::DataSink& sink, const std::string& data) {
  const std::string event = "data: " + data + "\n\n";
  return sink.write(event.data(), event.size());
}

// A generation that failed mid-stream: the error as the last event.
void SendStreamError(httplib::DataSink& sink, const Status& s) {
  Send(sink, OpenAiError(std::string(s.message()), "server_error"));
}

// Ends a stream: `usage` (a chunk; "" for none) while the client is still
// there, then [DONE].
void EndStream(httplib::DataSink& sink, bool open, const std::string& usage) {
  if (open && !usage.empty()) open = Send(sink, usage);
  if (open) Send(sink, "[DONE]");
  sink.done();
}

}  // namespace

void ReplicaServer::OpenAiRoutes() {
  const std::string name = options_.model_name;
  const ModelInfo& info = model_->info();
  const ListedModel listed{name, "cairn", UnixSeconds(), "", 0, 0, 0};
  http_->Get("/v1/models", [listed](const httplib::Request&, httplib::Response& res) {
    res.set_content(ModelList({listed}), kJson);
  });
  http_->Get(R"(/v1/models/([^/]+))", [listed](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == listed.id) return res.set_content(ModelObject(listed), kJson);
    res.status = 404;
    res.set_content(OpenAiError("the model '" + std::string(req.matches[1]) + "' does not exist", "invalid_request_error", "model",
                                "model_not_found"),
                    kJson);
  });
  // Refuses (and answers) a request this replica cannot serve.
  auto refuse = [this, name, &info](const std::string& model, httplib::Response& res) {
    std::string message, code;
    int status = 0;
    if (model != name) {
      status = 404;
      message = "the model '" + model + "' does not exist";
      code = "model_not_found";
    } else if (info.task != ModelTask::kTextGeneration) {
      status = 400;
      message = "'" + name + "' is a " + ModelTaskName(info.task) + " model; use /v2/models/" + name + "/infer";
    } else {
      return false;
    }
    ++errors_;
    res.status = status;
    res.set_content(OpenAiError(message, OpenAiErrorType(status), "model", code), kJson);
    return true;
  };
  auto server_error = [this](const Status& s, httplib::Response& res) {
    ++errors_;
    res.status = HttpStatusOf(s);
    res.set_content(OpenAiError(std::string(s.message()), OpenAiErrorType(res.status)), kJson);
  };
  auto bad_request = [this](const Status& s, httplib::Response& res) {
    ++errors_;
    res.status = 400;
    res.set_content(OpenAiInvalidRequest(s), kJson);
  };

  http_->Post("/v1/completions", [=, this](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    auto parsed = ParseCompletionRequest(req.body);
    if (!parsed.ok()) return bad_request(parsed.status(), res);
    if (refuse(parsed->model, res)) return;
    const CompletionRequest r = std::move(*parsed);
    const std::string id = RandomId("cmpl-");
    const int64_t created = UnixSeconds();
    if (!r.stream) {
      std::vector<Generation> choices;
      for (const auto& prompt : r.prompts) {
        for (int k = 0; k < r.n; ++k) {
          auto g = model_->Generate(prompt, ForChoice(r.options, k));
          if (!g.ok()) return server_error(g.status(), res);
          tokens_ += static_cast<uint64_t>(g->completion_tokens);
          choices.push_back(std::move(*g));
        }
      }
      return res.set_content(CompletionResponse(id, created, r, choices), kJson);
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, r, id, created](size_t, httplib::DataSink& sink) {
      int64_t prompt_tokens = 0, completion_tokens = 0;
      bool open = true;
      const bool logprobs = r.options.top_logprobs >= 0;
      for (size_t p = 0; p < r.prompts.size() && open; ++p) {
        for (int k = 0; k < r.n && open; ++k) {
          const int index = static_cast<int>(p) * r.n + k;
          GenerateOptions o = ForChoice(r.options, k);
          size_t offset = 0;  // of the next piece in the choice's text
          if (r.echo) {
            std::vector<TokenLogprob> echoed;
            if (o.prompt_logprobs) {  // scored before the reply is drawn
              GenerateOptions score = o;
              score.max_tokens = 0;
              auto s = model_->Generate(r.prompts[p], score);
              if (s.ok()) echoed = s->prompt_logprobs;
            }
            open = Send(sink, CompletionChunk(id, created, r.model, index, r.prompts[p], "", logprobs ? &echoed : nullptr, 0));
            offset = r.prompts[p].size();
          }
          o.prompt_logprobs = false;
          auto g = model_->Generate(r.prompts[p], o, [&](const std::string& piece, const std::vector<TokenLogprob>& lp) {
            open = open && Send(sink, CompletionChunk(id, created, r.model, index, piece, "", logprobs ? &lp : nullptr, offset));
            offset += piece.size();
            return open;
          });
          if (!g.ok()) {
            ++errors_;
            SendStreamError(sink, g.status());
            open = false;
            break;
          }
          tokens_ += static_cast<uint64_t>(g->completion_tokens);
          if (k == 0) prompt_tokens += g->prompt_tokens;
          completion_tokens += g->completion_tokens;
          open = open && Send(sink, CompletionChunk(id, created, r.model, index, "", g->finish_reason));
        }
      }
      EndStream(sink, open, r.include_usage ? UsageChunk(id, created, r.model, prompt_tokens, completion_tokens) : "");
      return true;
    });
  });

  http_->Post("/v1/chat/completions", [=, this, &info](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    auto parsed = ParseChatRequest(req.body);
    if (!parsed.ok()) return bad_request(parsed.status(), res);
    if (refuse(parsed->model, res)) return;
    ChatRequest r = std::move(*parsed);
    auto prompt = ApplyChatTemplate(info.chat_template, r.messages);
    if (!prompt.ok()) return server_error(prompt.status(), res);
    r.options.stop.insert(r.options.stop.end(), prompt->stops.begin(), prompt->stops.end());
    const bool strip = info.chat_template == "roles" || info.chat_template.empty();
    const std::string id = RandomId("chatcmpl-");
    const int64_t created = UnixSeconds();
    const bool logprobs = r.options.top_logprobs >= 0;
    if (!r.stream) {
      std::vector<Generation> choices;
      for (int k = 0; k < r.n; ++k) {
        auto g = model_->Generate(prompt->text, ForChoice(r.options, k));
        if (!g.ok()) return server_error(g.status(), res);
        tokens_ += static_cast<uint64_t>(g->completion_tokens);
        bool first = strip;
        StripLeadingSpace(&g->text, &g->logprobs, &first);
        choices.push_back(std::move(*g));
      }
      return res.set_content(ChatResponse(id, created, r.model, choices, logprobs), kJson);
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream", [this, r, id, created, text = prompt->text, strip, logprobs](size_t, httplib::DataSink& sink) {
          int64_t prompt_tokens = 0, completion_tokens = 0;
          bool open = true;
          for (int k = 0; k < r.n && open; ++k) {
            open = Send(sink, ChatRoleChunk(id, created, r.model, k));
            bool first = strip;
            auto g = model_->Generate(text, ForChoice(r.options, k), [&](const std::string& piece, const std::vector<TokenLogprob>& lp) {
              std::string content = piece;
              std::vector<TokenLogprob> piece_logprobs = lp;
              StripLeadingSpace(&content, &piece_logprobs, &first);
              if (content.empty()) return open;
              open = open && Send(sink, ChatContentChunk(id, created, r.model, k, content, logprobs ? &piece_logprobs : nullptr));
              return open;
            });
            if (!g.ok()) {
              ++errors_;
              SendStreamError(sink, g.status());
              open = false;
              break;
            }
            tokens_ += static_cast<uint64_t>(g->completion_tokens);
            prompt_tokens = g->prompt_tokens;
            completion_tokens += g->completion_tokens;
            open = open && Send(sink, ChatFinishChunk(id, created, r.model, k, g->finish_reason));
          }
          EndStream(sink, open, r.include_usage ? ChatUsageChunk(id, created, r.model, prompt_tokens, completion_tokens) : "");
          return true;
        });
  });
}

}  // namespace cairn::serve
