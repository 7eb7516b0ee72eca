// The OpenAI-compatible completions API (legacy /v1/completions), as its
// clients expect it: request parsing with errors that name the field, the
// response and streaming chunk shapes, the error envelope, and /v1/models.
//   POST /v1/completions {"model", "prompt", "max_tokens" (16), "temperature"
//   (1), "top_p" (1), "stop" (string or up to 4), "seed", "stream" (false),
//   "stream_options": {"include_usage"}, "n" (1 only)}
// Streaming sends `data: {chunk}\n\n` per piece of text, the last with its
// finish_reason, then (include_usage) a usage chunk, then `data: [DONE]\n\n`.
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
  std::string prompt;
  GenerateOptions options;
  bool stream = false;
  bool include_usage = false;
};

inline constexpr int64_t kMaxCompletionTokens = 4096;

// InvalidArgument naming the field for anything malformed.
StatusOr<CompletionRequest> ParseCompletionRequest(std::string_view body);

std::string CompletionResponse(const std::string& id, int64_t created, const std::string& model, const Generation& g);
// One streaming chunk (`finish_reason` "" is null), without the "data: " frame.
std::string CompletionChunk(const std::string& id, int64_t created, const std::string& model, const std::string& text,
                            const std::string& finish_reason);
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

struct ListedModel {
  std::string id, owned_by;
  int64_t created = 0;
  // cairn's extension fields (clients ignore what they do not know): the
  // model's licence and prices, in micro-credits.
  std::string license;
  uint64_t per_request_micros = 0, per_1k_tokens_micros = 0, finetune_fee_micros = 0;
};
std::string ModelList(const std::vector<ListedModel>& models);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_OPENAI_API_H_
