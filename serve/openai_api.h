// The OpenAI-compatible completions API (/v1/completions), the error
// envelope and the model objects, as OpenAI's clients expect them; chat is
// in serve/openai_chat.h. docs/serving.md has the field table.
//   POST /v1/completions {"model", "prompt" (a string, a list of strings, a
//   list of token ids, or a list of such lists), "max_tokens" (16),
//   "temperature" (1), "top_p" (1), "n" (1), "stop" (string or up to 4),
//   "seed", "logprobs" (0-5), "echo", "presence_penalty",
//   "frequency_penalty", "logit_bias", "user", "stream", "stream_options":
//   {"include_usage"}}; "suffix" and "best_of" > 1 are refused, naming them.
// Choice i answers prompt i / n. Streaming sends `data: {chunk}\n\n` per
// piece of text of each choice, then each choice's finish_reason, then
// (include_usage) a usage chunk, then `data: [DONE]\n\n`.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_OPENAI_API_H_
#define CAIRN_SERVE_OPENAI_API_H_

#include <string>
#include <string_view>
#include <vector>

#include "serve/inference_model.h"

namespace cairn::serve {

struct CompletionRequest {
  std::string model;
  std::vector<std::string> prompts;  // token ids become their bytes (cairn's text models are byte-level)
  GenerateOptions options;           // top_logprobs = logprobs, prompt_logprobs = echo with logprobs
  int n = 1;
  bool echo = false;
  bool stream = false;
  bool include_usage = false;
  std::string user;
  // What the request may use at most: every prompt, and max_tokens per choice.
  uint64_t WorstCaseTokens() const;
};

inline constexpr int64_t kMaxCompletionTokens = 4096;

// InvalidArgument naming the field for anything malformed.
StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body);

// `choices[i]` answers prompt i / n (`request` says which, and whether to echo).
std::string CompletionResponse(const std::string& id, int64_t created, const CompletionRequest& request,
                               const std::vector<Generation>& choices);
// One streaming chunk of choice `index` (`finish_reason` "" is null), without
// the "data: " frame; `logprobs` are its bytes' (when asked for).
std::string CompletionChunk(const std::string& id, int64_t created, const std::string& model, int index,
                            const std::string& text, const std::string& finish_reason,
                            const std::vector<TokenLogprob>* logprobs = nullptr, size_t text_offset = 0);
std::string UsageChunk(const std::string& id, int64_t created, const std::string& model, int64_t prompt_tokens,
                       int64_t completion_tokens);
// {"error": {"message", "type", "param", "code"}}
std::string OpenAiError(const std::string& message, const std::string& type, const std::string& param = "",
                        const std::string& code = "");
// The 400 body for a ParseCompletionRequest error ("field: problem"), with
// the field as the error's `param`.
std::string OpenAiInvalidRequest(const Status& parse_error);
// The error type for an HTTP status (400 invalid_request_error, 401
// authentication_error, 402/429 insufficient_quota, 404 not_found_error, ...).
const char* OpenAiErrorType(int http_status);

// The JSON of a token id's text (a byte; JSON replaces an invalid UTF-8 byte).
std::string TokenText(int64_t token);

struct ListedModel {
  std::string id, owned_by;
  int64_t created = 0;
  // cairn's extension fields (clients ignore what they do not know): the
  // model's licence and prices, in micro-credits.
  std::string license;
  uint64_t per_request_micros = 0, per_1k_tokens_micros = 0, finetune_fee_micros = 0;
};
std::string ModelList(const std::vector<ListedModel>& models);
// GET /v1/models/{id}: one model object.
std::string ModelObject(const ListedModel& model);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_OPENAI_API_H_
