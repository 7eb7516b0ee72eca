// OpenAI's chat completions (/v1/chat/completions) for cairn's text models:
// the request with errors that name the field, and the response, chunk and
// usage shapes. The messages become a prompt through the model's chat
// template (serve/chat_template.h), applied by the replica.
//   {"model", "messages": [{"role": system|developer|user|assistant,
//    "content": a string or a list of {"type": "text", "text"} parts,
//    "name"?}], "max_tokens" | "max_completion_tokens", "temperature",
//    "top_p", "n", "stop", "seed", "logprobs" (bool), "top_logprobs" (0-20),
//    "presence_penalty", "frequency_penalty", "logit_bias", "user",
//    "stream", "stream_options": {"include_usage"},
//    "response_format": {"type": "text"}}
// Tools, functions, audio, images and JSON output are refused, naming the field.
// Streaming: a first chunk with each choice's role, then content deltas,
// then each choice's finish_reason, then (include_usage) a usage chunk with
// no choices, then `data: [DONE]`.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_OPENAI_CHAT_H_
#define CAIRN_SERVE_OPENAI_CHAT_H_

#include <string>
#include <string_view>
#include <vector>

#include "serve/chat_template.h"
#include "serve/inference_model.h"

namespace cairn::serve {

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  GenerateOptions options;  // top_logprobs: -1 unless logprobs is true
  int n = 1;
  bool stream = false, include_usage = false;
  std::string user;
  // At most: the messages and a template's worth per message, and max_tokens per choice.
  uint64_t WorstCaseTokens() const;
};

StatusOr<ChatRequest> ParseChatRequest(std::string_view body);

std::string ChatResponse(const std::string& id, int64_t created, const std::string& model,
                         const std::vector<Generation>& choices, bool logprobs);
// One chunk of choice `index`: its role (the first), a piece of content with
// its logprobs (when asked for), or its finish_reason. No "data: " frame.
std::string ChatRoleChunk(const std::string& id, int64_t created, const std::string& model, int index);
std::string ChatContentChunk(const std::string& id, int64_t created, const std::string& model, int index,
                             const std::string& content, const std::vector<TokenLogprob>* logprobs);
std::string ChatFinishChunk(const std::string& id, int64_t created, const std::string& model, int index,
                            const std::string& finish_reason);
std::string ChatUsageChunk(const std::string& id, int64_t created, const std::string& model, int64_t prompt_tokens,
                           int64_t completion_tokens);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_OPENAI_CHAT_H_
