// KServe's binary tensor data extension: requests framed by
// Inference-Header-Content-Length decode to the same tensors as JSON, every
// malformed frame (a header length past the body, a size that does not
// match the shape, a truncated body, bytes left over) gets an error naming
// what is wrong, and random frames never crash the parser.
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve/kserve_api.h"
#include "serve/kserve_binary.h"

namespace cairn::serve {
namespace {

using nlohmann::json;

template <typename T>
std::string Raw(const std::vector<T>& values) {
  return std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// A framed body: the JSON header and the binary tail, and the header's length.
struct Framed {
  std::string body, length;
};
Framed Frame(const json& header, const std::string& tail) {
  const std::string h = header.dump();
  return {h + tail, std::to_string(h.size())};
}

json Input(const std::string& type, std::vector<int64_t> shape, size_t size) {
  return {{"inputs", {{{"name", "input"}, {"shape", shape}, {"datatype", type}, {"parameters", {{"binary_data_size", size}}}}}}};
}

TEST(KServeBinary, DecodesEveryNumericDatatype) {
  const std::vector<float> want{0, 1.5f, -2, 3};
  auto fp32 = Frame(Input("FP32", {2, 2}, 16), Raw(want));
  auto r = ParseInferRequest(fp32.body, fp32.length);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->input.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(r->input.data, want);
  EXPECT_EQ(r->datatype, "FP32");
  auto u8 = Frame(Input("UINT8", {3}, 3), std::string("\x00\x7f\xff", 3));
  r = ParseInferRequest(u8.body, u8.length);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->input.data, (std::vector<float>{0, 127, 255}));
  auto i64 = Frame(Input("INT64", {2}, 16), Raw(std::vector<int64_t>{-5, 1LL << 40}));
  r = ParseInferRequest(i64.body, i64.length);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->input.data, (std::vector<float>{-5, static_cast<float>(1LL << 40)}));
  auto fp64 = Frame(Input("FP64", {1}, 8), Raw(std::vector<double>{0.25}));
  r = ParseInferRequest(fp64.body, fp64.length);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->input.data, std::vector<float>{0.25f});
  // FP16: 1.0 = 0x3C00, -2.0 = 0xC000, 65504 = 0x7BFF, 2^-24 = 0x0001; BF16: 1.0 = 0x3F80.
  auto fp16 = Frame(Input("FP16", {4}, 8), Raw(std::vector<uint16_t>{0x3C00, 0xC000, 0x7BFF, 0x0001}));
  r = ParseInferRequest(fp16.body, fp16.length);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->input.data, (std::vector<float>{1, -2, 65504, std::ldexp(1.0f, -24)}));
  auto bf16 = Frame(Input("BF16", {1}, 2), Raw(std::vector<uint16_t>{0x3F80}));
  r = ParseInferRequest(bf16.body, bf16.length);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->input.data, std::vector<float>{1});
}

TEST(KServeBinary, BytesElementsAreLengthPrefixed) {
  std::string tail;
  AppendBytesElements({"ROMEO:", "", "\xe2\x9c\x93"}, &tail);
  EXPECT_EQ(tail.size(), 3 * 4 + 6 + 0 + 3u);
  auto f = Frame(Input("BYTES", {3}, tail.size()), tail);
  auto r = ParseInferRequest(f.body, f.length);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->strings, (std::vector<std::string>{"ROMEO:", "", "\xe2\x9c\x93"}));
  // And as JSON strings, with generation parameters for a text model.
  r = ParseInferRequest(R"({"inputs": [{"name": "text_input", "shape": [2], "datatype": "BYTES", "data": ["a", "b"]}],
                            "parameters": {"max_tokens": 8, "temperature": 0, "seed": 3, "stop": "\n"}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->strings, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(r->generation_parameters);
  EXPECT_EQ(r->generate.max_tokens, 8);
  EXPECT_EQ(r->generate.temperature, 0);
  EXPECT_EQ(*r->generate.seed, 3u);
  EXPECT_EQ(r->generate.stop, std::vector<std::string>{"\n"});
}

TEST(KServeBinary, OutputsAreBinaryWhenAsked) {
  const std::string j = R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}])";
  auto plain = ParseInferRequest(j + "}");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->binary_output);
  auto all = ParseInferRequest(j + R"(, "parameters": {"binary_data_output": true}})");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(all->binary_output);
  auto overridden = ParseInferRequest(j + R"(, "parameters": {"binary_data_output": true},
                                              "outputs": [{"name": "logits", "parameters": {"binary_data": false}}]})");
  ASSERT_TRUE(overridden.ok()) << overridden.status();
  EXPECT_FALSE(overridden->binary_output) << "an output's binary_data overrides binary_data_output";
  EXPECT_EQ(overridden->output_name, "logits");

  const std::vector<float> logits{0.5f, -1, 2};
  InferReply reply = InferResponse("fm", "q", FloatTensor{{1, 3}, logits}, true);
  ASSERT_TRUE(reply.header_length);
  const json header = json::parse(reply.body.substr(0, *reply.header_length));
  EXPECT_EQ(header["outputs"][0]["parameters"]["binary_data_size"], 12);
  EXPECT_FALSE(header["outputs"][0].contains("data"));
  std::vector<float> back(3);
  ASSERT_EQ(reply.body.size(), *reply.header_length + 12);
  std::memcpy(back.data(), reply.body.data() + *reply.header_length, 12);
  EXPECT_EQ(back, logits);

  OutputTensor text{"text_output", "BYTES", {2}, {}, {"hi", "there"}};
  reply = InferResponse("gpt", "", text, true, InferUsage{3, 7});
  ASSERT_TRUE(reply.header_length);
  const json th = json::parse(reply.body.substr(0, *reply.header_length));
  EXPECT_EQ(th["parameters"]["completion_tokens"], 7);
  std::vector<std::string> strings;
  ASSERT_TRUE(DecodeBytes(std::string_view(reply.body).substr(*reply.header_length), 2, "out", &strings).ok());
  EXPECT_EQ(strings, (std::vector<std::string>{"hi", "there"}));
  reply = InferResponse("gpt", "", text, false);
  EXPECT_FALSE(reply.header_length);
  EXPECT_EQ(json::parse(reply.body)["outputs"][0]["data"], json::array({"hi", "there"}));
}

TEST(KServeBinary, MalformedFramesNameWhatIsWrong) {
  const std::string four = Raw(std::vector<float>{1, 2, 3, 4});
  auto good = Frame(Input("FP32", {4}, 16), four);
  ASSERT_TRUE(ParseInferRequest(good.body, good.length).ok());
  struct Case {
    std::string body, length, want;
  };
  std::vector<Case> cases = {
      {good.body, std::to_string(good.body.size() + 1), "Inference-Header-Content-Length"},  // past the body
      {good.body, "12x", "not a length"},
      {good.body, "-3", "not a length"},
      {good.body, "99999999999999999999", "not a length"},
      {good.body.substr(0, good.body.size() - 3), good.length, "binary_data_size"},         // truncated
      {Frame(Input("FP32", {4}, 12), four.substr(0, 12)).body, Frame(Input("FP32", {4}, 12), "").length,
       "16 bytes"},                                                                           // size vs shape
      {good.body + "xx", good.length, "after the JSON header"},                                // trailing bytes
      {Frame(Input("FP32", {4}, 16), four).body, "5", "JSON header"},                          // header cut
      {Frame(Input("BYTES", {2}, 6), std::string("\x05\x00\x00\x00" "ab", 6)).body,
       Frame(Input("BYTES", {2}, 6), "").length, "claims 5 bytes"},
      {Frame(Input("BYTES", {2}, 5), std::string("\x01\x00\x00\x00" "a", 5)).body,
       Frame(Input("BYTES", {2}, 5), "").length, "shape needs 2"},
      {Frame(Input("BYTES", {1}, 3), std::string("\x01\x00\x00", 3)).body, Frame(Input("BYTES", {1}, 3), "").length,
       "cut off"},
  };
  json both = Input("FP32", {4}, 16);
  both["inputs"][0]["data"] = {1, 2, 3, 4};
  cases.push_back({Frame(both, four).body, Frame(both, four).length, "cannot be given"});
  json negative = Input("FP32", {4}, 16);
  negative["inputs"][0]["parameters"]["binary_data_size"] = -16;
  cases.push_back({Frame(negative, four).body, Frame(negative, four).length, "byte count"});
  for (const auto& c : cases) {
    auto r = ParseInferRequest(c.body, c.length);
    ASSERT_FALSE(r.ok()) << c.want;
    EXPECT_NE(std::string(r.status().message()).find(c.want), std::string::npos) << r.status();
  }
}

// Random frames: mutated valid requests with random header lengths, and
// random bytes. The parser answers with a value or an error, never a crash.
TEST(KServeBinary, SurvivesMalformedFrames) {
  std::mt19937 rng(17);
  std::string tail;
  AppendBytesElements({"ab", "cde"}, &tail);
  const Framed valid[] = {Frame(Input("FP32", {2, 2}, 16), Raw(std::vector<float>{1, 2, 3, 4})),
                          Frame(Input("BYTES", {2}, tail.size()), tail),
                          Frame(Input("FP16", {3}, 6), Raw(std::vector<uint16_t>{1, 2, 3}))};
  int rejected = 0;
  for (int i = 0; i < 30000; ++i) {
    Framed f = valid[i % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % f.body.size();
      switch (rng() % 4) {
        case 0: f.body[at] = static_cast<char>(rng()); break;
        case 1: f.body.erase(at, 1 + rng() % 3); break;
        case 2: f.body.insert(at, 1, "{}[],:\"0-e"[rng() % 10]); break;
        default: f.length = std::to_string(rng() % (f.body.size() + 8)); break;
      }
      if (f.body.empty()) f.body = "x";
    }
    auto r = ParseInferRequest(f.body, f.length);
    rejected += !r.ok();
    if (r.ok() && r->datatype == "BYTES") {
      EXPECT_EQ(r->strings.size(), static_cast<size_t>(r->input.shape[0]));
    }
    if (r.ok() && r->datatype != "BYTES") {
      size_t count = 1;
      for (int64_t d : r->input.shape) count *= static_cast<size_t>(d);
      EXPECT_EQ(r->input.data.size(), count);
    }
  }
  EXPECT_GT(rejected, 15000);
  for (int i = 0; i < 3000; ++i) {
    std::string junk(rng() % 512, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    EXPECT_FALSE(ParseInferRequest(junk, std::to_string(rng() % (junk.size() + 1))).ok());
  }
}

}  // namespace
}  // namespace cairn::serve
