// Parsing the request fields OpenAI's completions and chat completions share
// (sampling, length, stop, seed, n, penalties, logit_bias, stream), with
// errors that name the field. Internal to serve/openai_*.cc.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_OPENAI_FIELDS_H_
#define CAIRN_SERVE_OPENAI_FIELDS_H_

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/base/statusor.h"
#include "serve/inference_model.h"

namespace cairn::serve::internal {

using nlohmann::json;

// "field: problem" (the gateway and replicas turn it into a 400 naming `param`).
Status Field(const std::string& name, const std::string& problem);

// Every key of `j` must be in `known`; one in `refused` gets its own reason.
Status OnlyKnownFields(const json& j, const std::set<std::string>& known, const std::map<std::string, std::string>& refused);

// The shared fields into `o` and the rest: `max_tokens_field` names the
// length field ("max_tokens"; chat also takes "max_completion_tokens").
struct SharedFields {
  int n = 1;
  bool stream = false, include_usage = false;
  std::string user;
};
Status ParseShared(const json& j, GenerateOptions* o, SharedFields* shared);

std::string Dump(const json& j);

// Most completions a request may ask for (prompts x n).
inline constexpr int kMaxChoices = 16;

}  // namespace cairn::serve::internal

#endif  // CAIRN_SERVE_OPENAI_FIELDS_H_
