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
                                      "stream_options": {"include_usage": true}, "n": 1, "user": "ignored"})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "gpt");
  EXPECT_EQ(r->prompt, "ROMEO:");
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
      {R"({"model": "m", "prompt": ["a", "b"]})", "one prompt"},
      {R"({"model": "m", "max_tokens": -1})", "max_tokens"},
      {R"({"model": "m", "max_tokens": 1.5})", "max_tokens"},
      {R"({"model": "m", "max_tokens": 100000})", "max_tokens"},
      {R"({"model": "m", "temperature": 3})", "temperature"},
      {R"({"model": "m", "temperature": "hot"})", "temperature"},
      {R"({"model": "m", "top_p": 0})", "top_p"},
      {R"({"model": "m", "stop": [1]})", "stop"},
      {R"({"model": "m", "stop": ["a","b","c","d","e"]})", "stop"},
      {R"({"model": "m", "seed": "x"})", "seed"},
      {R"({"model": "m", "n": 2})", "n"},
      {R"({"model": "m", "stream": "yes"})", "stream"},
  };
  for (const auto& [body, field] : cases) {
    auto r = ParseCompletionRequest(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(std::string(r.status().message()).find(field), std::string::npos) << body << " -> " << r.status();
  }
}

TEST(OpenAiApi, ShapesMatchTheOpenAiSpec) {
  Generation g{"Hello", 3, 5, "length"};
  auto j = json::parse(CompletionResponse("cmpl-1", 1700000000, "gpt", g));
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["text"], "Hello");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(j["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(j["usage"]["total_tokens"], 8);
  auto c = json::parse(CompletionChunk("cmpl-1", 1, "gpt", "He", ""));
  EXPECT_TRUE(c["choices"][0]["finish_reason"].is_null());
  auto e = json::parse(OpenAiError("credits exhausted", OpenAiErrorType(402), "", "insufficient_quota"));
  EXPECT_EQ(e["error"]["type"], "insufficient_quota");
  EXPECT_TRUE(e["error"]["param"].is_null());
  // Invalid UTF-8 from a byte-level model is replaced, never a broken document.
  json replaced;  // assigned, not discarded: clang warns on an unused parse() result, and GCC despite a (void) cast
  EXPECT_NO_THROW(replaced = json::parse(CompletionResponse("c", 1, "m", Generation{"\xff\xfe", 0, 2, "length"})));
  auto list = json::parse(ModelList({{"a", "cairn", 1, "MIT", 1000, 0, 0}, {"b", "cairn", 2, "", 0, 0, 0}}));
  EXPECT_EQ(list["object"], "list");
  EXPECT_EQ(list["data"][0]["license"], "MIT");
  EXPECT_EQ(list["data"][0]["pricing"]["per_request_micros"], 1000);
  EXPECT_EQ(list["data"][1]["id"], "b");
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
  auto out = json::parse(InferResponse("fm", "q1", FloatTensor{{1, 2}, {0.5f, -1}}));
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
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "BYTES", "data": ["a"]}]})", "datatype"},
      {R"({"inputs": [{"name": "x", "shape": [0], "datatype": "FP32", "data": []}]})", "shape"},
      {R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1]}]})", "has 1 values"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1, 2]}]})", "data"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": ["1"]}]})", "data"},
      {R"({"inputs": [{"name": "x", "shape": [100000, 100000], "datatype": "FP32", "data": []}]})", "more than"},
      {R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "probs"}]})", "outputs"},
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
