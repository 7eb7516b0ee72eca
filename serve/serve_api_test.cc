// The API shapes consumers' clients depend on, and every malformed request
// a client could send: refused with an error naming the field, never a crash.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve/kserve_api.h"
#include "serve/openai_api.h"

namespace cairn::serve {
namespace {

using nlohmann::json;

TEST(OpenAiApi, ParsesWhatClientsSend) {
  auto r = ParseCompletionRequest(R"({"model": "gpt", "prompt": "ROMEO:", "max_tokens": 32, "temperature": 0.5,
                                      "top_p": 0.9, "stop": ["\n\n", "END"], "seed": 7, "stream": true,
                                      "stream_options": {"include_usage": true}, "n": 1, "user": "u-42"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "gpt");
  EXPECT_EQ(r->prompts, std::vector<std::string>{"ROMEO:"});
  EXPECT_EQ(r->user, "u-42");
  EXPECT_EQ(r->options.max_tokens, 32);
  EXPECT_DOUBLE_EQ(r->options.temperature, 0.5);
  EXPECT_DOUBLE_EQ(r->options.top_p, 0.9);
  EXPECT_EQ(r->options.stop, (std::vector<std::string>{"\n\n", "END"}));
  EXPECT_EQ(*r->options.seed, 7u);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  auto d = ParseCompletionRequest(R"({"model": "gpt", "prompt": ["one"]})");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->options.max_tokens, 16) << "OpenAI's default";
  EXPECT_FALSE(d->stream);
}

TEST(OpenAiApi, NamesTheFieldThatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"not json", "not valid JSON"},
      {"[1]", "JSON object"},
      {"{}", "model"},
      {R"({"model": 3})", "model"},
      {R"({"model": "m", "prompt": 5})", "prompt"},
      {R"({"model": "m", "prompt": [300]})", "prompt"},
      {R"({"model": "m", "prompt": [[1, "a"]]})", "prompt"},
      {R"({"model": "m", "prompt": []})", "prompt"},
      {R"({"model": "m", "suffix": "end"})", "suffix"},
      {R"({"model": "m", "best_of": 3})", "best_of"},
      {R"({"model": "m", "logprobs": 6})", "logprobs"},
      {R"({"model": "m", "logprobs": true})", "logprobs"},
      {R"({"model": "m", "echo": "yes"})", "echo"},
      {R"({"model": "m", "tools": []})", "tools"},
      {R"({"model": "m", "n": 0})", "n"},
      {R"({"model": "m", "n": 17})", "n"},
      {R"({"model": "m", "prompt": ["a", "b", "c"], "n": 6})", "n"},
      {R"({"model": "m", "logit_bias": {"300": 1}})", "logit_bias"},
      {R"({"model": "m", "logit_bias": {"a": 1}})", "logit_bias"},
      {R"({"model": "m", "logit_bias": {"1": 101}})", "logit_bias"},
      {R"({"model": "m", "presence_penalty": 2.5})", "presence_penalty"},
      {R"({"model": "m", "frequency_penalty": "x"})", "frequency_penalty"},
      {R"({"model": "m", "stream_options": {"include_usage": true}})", "stream_options"},
      {R"({"model": "m", "stream": true, "stream_options": {"x": 1}})", "stream_options.x"},
      {R"({"model": "m", "user": 5})", "user"},
      {R"({"model": "m", "max_tokens": -1})", "max_tokens"},
      {R"({"model": "m", "max_tokens": 1.5})", "max_tokens"},
      {R"({"model": "m", "max_tokens": 100000})", "max_tokens"},
      {R"({"model": "m", "temperature": 3})", "temperature"},
      {R"({"model": "m", "temperature": "hot"})", "temperature"},
      {R"({"model": "m", "top_p": 0})", "top_p"},
      {R"({"model": "m", "stop": [1]})", "stop"},
      {R"({"model": "m", "stop": ["a","b","c","d","e"]})", "stop"},
      {R"({"model": "m", "seed": "x"})", "seed"},
      {R"({"model": "m", "stream": "yes"})", "stream"},
  };
  for (const auto& [body, field] : cases) {
    auto r = ParseCompletionRequest(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(std::string(r.status().message()).find(field), std::string::npos) << body << " -> " << r.status();
  }
}

TEST(OpenAiApi, TakesEveryPromptForm) {
  auto strings = ParseCompletionRequest(R"({"model": "m", "prompt": ["a", "bc"], "n": 3, "echo": true, "logprobs": 2})");
  ASSERT_TRUE(strings.ok()) << strings.status();
  EXPECT_EQ(strings->prompts, (std::vector<std::string>{"a", "bc"}));
  EXPECT_EQ(strings->n, 3);
  EXPECT_TRUE(strings->echo);
  EXPECT_EQ(strings->options.top_logprobs, 2);
  EXPECT_TRUE(strings->options.prompt_logprobs) << "echo with logprobs scores the prompt";
  EXPECT_EQ(strings->WorstCaseTokens(), 3u * (1 + 16) + 3u * (2 + 16));
  auto ids = ParseCompletionRequest(R"({"model": "m", "prompt": [72, 105]})");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->prompts, std::vector<std::string>{"Hi"}) << "a token id is a byte";
  auto lists = ParseCompletionRequest(R"({"model": "m", "prompt": [[72], [105, 33]], "suffix": null, "best_of": 1})");
  ASSERT_TRUE(lists.ok()) << lists.status();
  EXPECT_EQ(lists->prompts, (std::vector<std::string>{"H", "i!"}));
  auto tuned = ParseCompletionRequest(R"({"model": "m", "logit_bias": {"10": -100, "65": 5.5}, "presence_penalty": 1,
                                          "frequency_penalty": -0.5, "logprobs": 0})");
  ASSERT_TRUE(tuned.ok()) << tuned.status();
  EXPECT_EQ(tuned->options.logit_bias, (std::map<int64_t, double>{{10, -100}, {65, 5.5}}));
  EXPECT_EQ(tuned->options.presence_penalty, 1);
  EXPECT_EQ(tuned->options.frequency_penalty, -0.5);
  EXPECT_EQ(tuned->options.top_logprobs, 0);
  EXPECT_FALSE(tuned->options.prompt_logprobs);
  auto none = ParseCompletionRequest(R"({"model": "m"})");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->options.top_logprobs, -1) << "no logprobs unless asked";
}

TEST(OpenAiApi, ShapesMatchTheOpenAiSpec) {
  auto req = ParseCompletionRequest(R"({"model": "gpt", "prompt": ["A", "B"], "n": 2, "echo": true, "logprobs": 1})");
  ASSERT_TRUE(req.ok());
  std::vector<Generation> gens;
  for (int i = 0; i < 4; ++i) {
    Generation g;
    g.text = "x" + std::to_string(i);
    g.prompt_tokens = 1;
    g.completion_tokens = 2;
    g.finish_reason = i == 3 ? "stop" : "length";
    g.prompt_logprobs = {TokenLogprob{i < 2 ? 'A' : 'B', std::nullopt, {}}};
    g.logprobs = {TokenLogprob{'x', -0.5, {{'x', -0.5}}}, TokenLogprob{'0' + i, -1.0, {{'y', -0.25}}}};
    gens.push_back(g);
  }
  auto j = json::parse(CompletionResponse("cmpl-1", 1700000000, *req, gens));
  EXPECT_EQ(j["object"], "text_completion");
  ASSERT_EQ(j["choices"].size(), 4u);
  EXPECT_EQ(j["choices"][0]["text"], "Ax0") << "echo puts the prompt first";
  EXPECT_EQ(j["choices"][2]["text"], "Bx2") << "choices are prompt-major";
  EXPECT_EQ(j["choices"][3]["index"], 3);
  EXPECT_EQ(j["choices"][3]["finish_reason"], "stop");
  const json& lp = j["choices"][1]["logprobs"];
  EXPECT_EQ(lp["tokens"], json::array({"A", "x", "1"}));
  EXPECT_TRUE(lp["token_logprobs"][0].is_null()) << "the first prompt token has no logprob";
  EXPECT_EQ(lp["token_logprobs"][1], -0.5);
  EXPECT_EQ(lp["top_logprobs"][2]["y"], -0.25);
  EXPECT_EQ(lp["text_offset"], json::array({0, 1, 2}));
  EXPECT_EQ(j["usage"]["prompt_tokens"], 2) << "each prompt counted once, not per choice";
  EXPECT_EQ(j["usage"]["completion_tokens"], 8);
  EXPECT_EQ(j["usage"]["total_tokens"], 10);
  auto c = json::parse(CompletionChunk("cmpl-1", 1, "gpt", 3, "He", ""));
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(c["choices"][0]["index"], 3);
  std::vector<TokenLogprob> piece{{'H', -0.1, {}}, {'e', -0.2, {}}};
  auto cl = json::parse(CompletionChunk("cmpl-1", 1, "gpt", 0, "He", "", &piece, 7));
  EXPECT_EQ(cl["choices"][0]["logprobs"]["text_offset"], json::array({7, 8}));
  auto e = json::parse(OpenAiError("credits exhausted", "insufficient_quota", "", "insufficient_quota"));
  EXPECT_EQ(e["error"]["code"], "insufficient_quota");
  EXPECT_TRUE(e["error"]["param"].is_null());
  auto named = json::parse(OpenAiInvalidRequest(InvalidArgumentError("max_tokens: must be an integer")));
  EXPECT_EQ(named["error"]["param"], "max_tokens");
  EXPECT_EQ(named["error"]["type"], "invalid_request_error");
  // Invalid UTF-8 from a byte-level model is replaced, never a broken document.
  auto plain = ParseCompletionRequest(R"({"model": "m"})");
  Generation bad;
  bad.text = "\xff\xfe";
  json replaced;  // assigned, not discarded: clang warns on an unused parse() result, and GCC despite a (void) cast
  EXPECT_NO_THROW(replaced = json::parse(CompletionResponse("c", 1, *plain, {bad})));
  auto list = json::parse(ModelList({{"a", "cairn", 1, "MIT", 1000, 0, 0}, {"b", "cairn", 2, "", 0, 0, 0}}));
  EXPECT_EQ(list["object"], "list");
  EXPECT_EQ(list["data"][0]["license"], "MIT");
  EXPECT_EQ(list["data"][0]["pricing"]["per_request_micros"], 1000);
  EXPECT_EQ(list["data"][1]["id"], "b");
  auto one = json::parse(ModelObject({"a", "0xab", 1, "MIT", 1000, 20, 0}));
  EXPECT_EQ(one["object"], "model");
  EXPECT_EQ(one["owned_by"], "0xab");
  EXPECT_EQ(one["pricing"]["per_1k_tokens_micros"], 20);
}

TEST(KServeApi, ParsesFlatAndNestedTensors) {
  auto r = ParseInferRequest(R"({"id": "q1", "inputs": [{"name": "input", "shape": [2, 3], "datatype": "FP32",
                                 "data": [[1, 2, 3], [4, 5, 6]]}], "outputs": [{"name": "logits"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->id, "q1");
  EXPECT_EQ(r->input.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(r->input.data, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto u8 = ParseInferRequest(R"({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "UINT8", "data": [0, 255]}]})");
  ASSERT_TRUE(u8.ok());
  EXPECT_EQ(u8->input.data[1], 255.0f);
  auto out = json::parse(InferResponse("fm", "q1", FloatTensor{{1, 2}, {0.5f, -1}}).body);
  EXPECT_EQ(out["model_name"], "fm");
  EXPECT_EQ(out["id"], "q1");
  EXPECT_EQ(out["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(out["outputs"][0]["shape"], json::array({1, 2}));
}

TEST(KServeApi, NamesTheFieldThatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "not valid JSON"},
      {R"({"inputs": []})", "inputs"},
      {R"({"inputs": [1]})", "inputs[0]"},
      {R"({"inputs": [{"shape": [1], "datatype": "FP32", "data": [1]}]})", "name"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "BOOL", "data": [true]}]})", "datatype"},
      {R"({"inputs": [{"name": "x", "shape": [2], "datatype": "BYTES", "data": ["a", 1]}]})", "data"},
      {R"({"inputs": [{"name": "x", "shape": [0], "datatype": "FP32", "data": []}]})", "shape"},
      {R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1]}]})", "has 1 values"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]}]})", "data"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": ["1"]}]})", "data"},
      {R"({"inputs": [{"name": "x", "shape": [100000, 100000], "datatype": "FP32", "data": []}]})", "more than"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "a"}, {"name": "b"}]})", "outputs"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"sequence_id": 4}})", "parameters.sequence_id"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {"max_tokens": -1}})", "parameters.max_tokens"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "logits", "parameters": {"classification": 3}}]})", "classification"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "parameters": {"binary_data_size": 4}}]})", "Inference-Header-Content-Length"},
      {R"({"id": 5, "inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]})", "id"},
  };
  for (const auto& [body, field] : cases) {
    auto r = ParseInferRequest(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(std::string(r.status().message()).find(field), std::string::npos) << body << " -> " << r.status();
  }
}

// Random bytes and mutations of valid requests: each parser answers with a
// value or an error, and never crashes or hangs.
TEST(ServeApis, SurviveMalformedInput) {
  std::mt19937 rng(5);
  const std::string valid[] = {
      R"({"model": "m", "prompt": "hi", "max_tokens": 4, "stop": ["x"], "stream": true})",
      R"({"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [[1, 2, 3, 4]]}]})",
  };
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid[i % 2];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + rng() % 3); break;
        default: s.insert(at, 1, "{}[],:\"0-e"[rng() % 10]); break;
      }
      if (s.empty()) s = "x";
    }
    const bool ok = i % 2 ? ParseInferRequest(s).ok() : ParseCompletionRequest(s).ok();
    rejected += !ok;
  }
  EXPECT_GT(rejected, 10000);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(rng() % 512, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    EXPECT_FALSE(ParseCompletionRequest(junk).ok());
    EXPECT_FALSE(ParseInferRequest(junk).ok());
  }
  // Deep nesting is refused, not recursed into without bound.
  std::string deep = R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": )" + std::string(5000, '[') +
                     "1" + std::string(5000, ']') + "}]}";
  EXPECT_FALSE(ParseInferRequest(deep).ok());
}

}  // namespace
}  // namespace cairn::serve
