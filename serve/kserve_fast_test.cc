// The fast KServe request parser against the complete one: whatever the fast
// path accepts, the complete parser accepts with the same result, bit for bit;
// and the fast path does take the plain requests clients send.
#include <cstring>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "serve/kserve_fast.h"

namespace cairn::serve {
namespace {

using internal::ParseInferRequestComplete;
using internal::ParseInferRequestFast;

struct Gen {
  std::mt19937_64 rng;
  bool plain;  // only what the fast path is meant to take

  explicit Gen(uint64_t seed, bool plain_only) : rng(seed), plain(plain_only) {}
  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
  bool Coin(int percent) { return Int(0, 99) < percent; }
  std::string Ws() {
    static const char* kWs[] = {"", "", " ", "\n", "\t ", "\r\n  "};
    return kWs[Int(0, 5)];
  }
  std::string Number() {
    static const char* kOdd[] = {"-0", "-0.0", "1e400", "-1e-400", "18446744073709551615", "18446744073709551616",
                                 "-9223372036854775808", "-9223372036854775809", "0.1e1", "1E-2", "2.5e+3", "123456789012"};
    if (Coin(10)) return kOdd[Int(0, plain ? 9 : 11) % (plain ? 2 : 12)];
    switch (Int(0, 3)) {
      case 0: return std::to_string(Int(-300, 300));
      case 1: return std::to_string(Int(0, 255));
      case 2: {
        char b[64];
        std::snprintf(b, sizeof(b), "%.9g", std::uniform_real_distribution<double>(-1e3, 1e3)(rng));
        return b;
      }
      default: {
        char b[64];
        std::snprintf(b, sizeof(b), "%.17g", std::uniform_real_distribution<double>(0, 1)(rng));
        return b;
      }
    }
  }
  std::string Str() {
    static const char* kPlain[] = {"\"input\"", "\"x\"", "\"q-17\"", "\"\""};
    static const char* kOdd[] = {"\"in\\u0070ut\"", "\"caf\xc3\xa9\"", "\"a\\\"b\"", "\"tab\\t\""};
    return !plain && Coin(15) ? kOdd[Int(0, 3)] : kPlain[Int(0, 3)];
  }
  std::string Data(const std::vector<int>& shape, size_t dim) {
    std::string s = "[" + Ws();
    const bool nest = dim + 1 < shape.size() && Coin(50);
    if (nest) {
      for (int i = 0; i < shape[dim]; ++i) s += (i ? "," + Ws() : "") + Data(shape, dim + 1);
    } else {
      size_t n = 1;
      for (size_t d = dim; d < shape.size(); ++d) n *= static_cast<size_t>(shape[d]);
      if (!plain && Coin(5)) n += Int(-1, 1);
      for (size_t i = 0; i < n; ++i) s += (i ? "," + Ws() : "") + Number();
    }
    return s + Ws() + "]";
  }
  std::string Skippable() {
    static const char* kValues[] = {"{}", "[]", "null", "true", "{\"a\": [1, {\"b\": false}], \"c\": \"d\"}", "-2.5e3"};
    return kValues[Int(0, 5)];
  }
  std::string Request() {
    std::vector<int> shape;
    for (int d = Int(1, 3); d > 0; --d) shape.push_back(Int(1, 4));
    std::vector<std::string> input = {
        "\"name\":" + Ws() + Str(),
        "\"datatype\":" + Ws() + (Coin(80) ? "\"FP32\"" : Coin(50) ? "\"UINT8\"" : plain ? "\"INT64\"" : "\"BYTES\""),
        "\"shape\":" + Ws() + "[",
        "\"data\":" + Ws() + Data(shape, 0)};
    for (size_t i = 0; i < shape.size(); ++i) input[2] += (i ? "," : "") + std::to_string(shape[i]);
    input[2] += "]";
    // Parameters (binary data, generation) are the complete parser's alone.
    if (!plain && Coin(10)) input.push_back("\"parameters\":" + Ws() + Skippable());
    if (!plain && Coin(5)) input.push_back("\"shape\": [1]");
    std::shuffle(input.begin(), input.end(), rng);
    std::string in = "{" + Ws();
    for (size_t i = 0; i < input.size(); ++i) in += (i ? "," + Ws() : "") + input[i];
    in += Ws() + "}";
    std::vector<std::string> top = {"\"inputs\":" + Ws() + "[" + Ws() + in + Ws() + "]"};
    if (Coin(40)) top.push_back("\"id\":" + Ws() + Str());
    if (Coin(20)) top.push_back("\"outputs\": [{\"name\": \"logits\"" + std::string(Coin(30) ? ", \"p\": {}" : "") + "}]");
    if (!plain && Coin(10)) top.push_back("\"parameters\":" + Ws() + Skippable());
    if (!plain && Coin(5)) top.push_back("\"id\": \"again\"");
    std::shuffle(top.begin(), top.end(), rng);
    std::string s = Ws() + "{" + Ws();
    for (size_t i = 0; i < top.size(); ++i) s += (i ? "," + Ws() : "") + top[i];
    return s + Ws() + "}" + Ws();
  }
};

void ExpectSame(const InferRequest& fast, const InferRequest& complete, const std::string& body) {
  EXPECT_EQ(fast.id, complete.id) << body;
  EXPECT_EQ(fast.input_name, complete.input_name) << body;
  EXPECT_EQ(fast.input.shape, complete.input.shape) << body;
  EXPECT_EQ(fast.datatype, complete.datatype) << body;
  EXPECT_EQ(fast.output_name, complete.output_name) << body;
  EXPECT_EQ(fast.binary_output, complete.binary_output) << body;
  ASSERT_EQ(fast.input.data.size(), complete.input.data.size()) << body;
  EXPECT_EQ(0, std::memcmp(fast.input.data.data(), complete.input.data.data(), fast.input.data.size() * sizeof(float)))
      << body;
}

TEST(KServeFastPath, TakesThePlainRequestsClientsSend) {
  Gen g(1, /*plain_only=*/true);
  for (int i = 0; i < 3000; ++i) {
    const std::string body = g.Request();
    auto fast = ParseInferRequestFast(body);
    auto complete = ParseInferRequestComplete(body);
    ASSERT_TRUE(complete.ok()) << complete.status().ToString() << "\n" << body;
    ASSERT_TRUE(fast.has_value()) << body;
    ExpectSame(*fast, *complete, body);
  }
}

TEST(KServeFastPath, NeverAcceptsWhatTheCompleteParserWouldNot) {
  Gen g(2, /*plain_only=*/false);
  int fast_taken = 0, refused = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string body = g.Request();
    if (i % 2) {  // and corrupted: a byte changed, dropped or repeated
      const size_t at = static_cast<size_t>(g.Int(0, static_cast<int>(body.size()) - 1));
      switch (g.Int(0, 2)) {
        case 0: body[at] = static_cast<char>(g.Int(0, 255)); break;
        case 1: body.erase(at, 1); break;
        default: body.insert(at, 1, body[at]);
      }
    }
    auto fast = ParseInferRequestFast(body);
    auto complete = ParseInferRequestComplete(body);
    if (!complete.ok()) ++refused;
    if (!fast) continue;
    ++fast_taken;
    ASSERT_TRUE(complete.ok()) << "fast path accepted what the complete parser refuses (" << complete.status().ToString()
                               << "):\n" << body;
    ExpectSame(*fast, *complete, body);
  }
  // Both outcomes happen often enough for the comparison to mean something.
  EXPECT_GT(fast_taken, 5000);
  EXPECT_GT(refused, 5000);
}

TEST(KServeFastPath, LeavesEdgeCasesToTheCompleteParser) {
  for (const char* body : {
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": 5}]})",     // scalar data
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1e400]}]})",  // out of range
           R"({"inputs": [{"name": "\u0078", "shape": [1], "datatype": "FP32", "data": [1]}]})",  // escape
           "\xef\xbb\xbf{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}",  // BOM
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "id": "a", "id": "b"})",
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "parameters": {}})",
           R"({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}], "outputs": [{"name": "logits", "parameters": {"binary_data": true}}]})",
       }) {
    EXPECT_FALSE(ParseInferRequestFast(body).has_value()) << body;
  }
}

}  // namespace
}  // namespace cairn::serve
