// OpenAI's chat completions as cairn parses and answers them: what clients
// send is understood, what cairn cannot do is refused naming the field, the
// templates make the prompts docs/serving.md shows, and random bodies never
// crash the parser.
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "serve/chat_template.h"
#include "serve/openai_chat.h"

namespace cairn::serve {
namespace {

using nlohmann::json;

TEST(OpenAiChat, ParsesWhatClientsSend) {
  auto r = ParseChatRequest(R"({"model": "gpt", "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}], "name": "ann"},
      {"role": "assistant", "content": null},
      {"role": "developer", "content": "x"}],
    "max_completion_tokens": 20, "temperature": 0, "n": 2, "stop": "\n", "seed": 1, "logprobs": true,
    "top_logprobs": 3, "stream": true, "stream_options": {"include_usage": true}, "user": "u",
    "response_format": {"type": "text"}, "tools": null})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "gpt");
  ASSERT_EQ(r->messages.size(), 4u);
  EXPECT_EQ(r->messages[1].content, "Hi there");
  EXPECT_EQ(r->messages[2].content, "");
  EXPECT_EQ(r->options.max_tokens, 20);
  EXPECT_EQ(r->n, 2);
  EXPECT_EQ(r->options.top_logprobs, 3);
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  auto plain = ParseChatRequest(R"({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->options.top_logprobs, -1);
  EXPECT_EQ(plain->options.max_tokens, 16);
  EXPECT_EQ(plain->WorstCaseTokens(), 16u + 2 + 16 + 16) << "prompt, template bytes, max_tokens";
}

TEST(OpenAiChat, RefusesWhatItCannotDoNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {"nope", "not valid JSON"},
      {R"({"messages": [{"role": "user", "content": "x"}]})", "model"},
      {R"({"model": "m"})", "messages"},
      {R"({"model": "m", "messages": []})", "messages"},
      {R"({"model": "m", "messages": ["hi"]})", "messages[0]"},
      {R"({"model": "m", "messages": [{"content": "x"}]})", "messages[0].role"},
      {R"({"model": "m", "messages": [{"role": "tool", "content": "x"}]})", "messages[0].role"},
      {R"({"model": "m", "messages": [{"role": "user"}]})", "messages[0].content"},
      {R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]})",
       "messages[0].content"},
      {R"({"model": "m", "messages": [{"role": "assistant", "content": "x", "tool_calls": []}]})", "messages[0].tool_calls"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]})", "tools"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "functions": []})", "functions"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": 1})", "logprobs"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})", "top_logprobs"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "logprobs": true, "top_logprobs": 21})", "top_logprobs"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})",
       "response_format"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_completion_tokens": -2})", "max_completion_tokens"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 40})", "n"},
      {R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "frobnicate": 1})", "frobnicate"},
  };
  for (const auto& [body, field] : cases) {
    auto r = ParseChatRequest(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(std::string(r.status().message()).find(field), std::string::npos) << body << " -> " << r.status();
  }
}

TEST(ChatTemplate, RolesAndPlain) {
  const std::vector<ChatMessage> m = {{"system", "Speak as Romeo."}, {"user", "Who goes?"}, {"assistant", "A friend."},
                                      {"developer", "Short."}, {"user", "Speak."}};
  auto roles = ApplyChatTemplate("roles", m);
  ASSERT_TRUE(roles.ok());
  EXPECT_EQ(roles->text,
            "System: Speak as Romeo.\nUser: Who goes?\nAssistant: A friend.\nSystem: Short.\nUser: Speak.\nAssistant:");
  EXPECT_EQ(roles->stops, (std::vector<std::string>{"\nUser:", "\nSystem:"}));
  auto plain = ApplyChatTemplate("plain", {{"user", "To be"}, {"user", "or not"}});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->text, "To be\n\nor not");
  EXPECT_TRUE(plain->stops.empty());
  auto unknown = ApplyChatTemplate("chatml", m);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(std::string(unknown.status().message()).find("roles, plain"), std::string::npos);
}

TEST(OpenAiChat, ShapesMatchTheOpenAiSpec) {
  Generation a;
  a.text = "Hi";
  a.prompt_tokens = 10;
  a.completion_tokens = 3;
  a.finish_reason = "stop";
  a.logprobs = {TokenLogprob{'H', -0.5, {{'H', -0.5}, {'h', -1.5}}}, TokenLogprob{'i', -0.1, {}}};
  Generation b = a;
  b.text = "Yo";
  b.finish_reason = "length";
  auto j = json::parse(ChatResponse("chatcmpl-1", 5, "gpt", {a, b}, true));
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][1]["index"], 1);
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][1]["message"]["content"], "Yo");
  EXPECT_EQ(j["choices"][1]["finish_reason"], "length");
  const json& lp = j["choices"][0]["logprobs"]["content"];
  EXPECT_EQ(lp[0]["token"], "H");
  EXPECT_EQ(lp[0]["bytes"], json::array({'H'}));
  EXPECT_EQ(lp[0]["top_logprobs"][1]["token"], "h");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 10) << "one prompt for every choice";
  EXPECT_EQ(j["usage"]["completion_tokens"], 6);
  EXPECT_TRUE(json::parse(ChatResponse("c", 5, "gpt", {a}, false))["choices"][0]["logprobs"].is_null());
  auto role = json::parse(ChatRoleChunk("c", 1, "gpt", 1));
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(role["choices"][0]["index"], 1);
  auto content = json::parse(ChatContentChunk("c", 1, "gpt", 0, "Hi", &a.logprobs));
  EXPECT_EQ(content["choices"][0]["delta"]["content"], "Hi");
  EXPECT_EQ(content["choices"][0]["logprobs"]["content"].size(), 2u);
  auto finish = json::parse(ChatFinishChunk("c", 1, "gpt", 0, "stop"));
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  auto usage = json::parse(ChatUsageChunk("c", 1, "gpt", 4, 5));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["total_tokens"], 9);
}

TEST(OpenAiChat, SurvivesMalformedInput) {
  std::mt19937 rng(11);
  const std::string valid =
      R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "n": 2,
          "logprobs": true, "top_logprobs": 1, "stop": ["x"], "stream": true, "stream_options": {"include_usage": true}})";
  ASSERT_TRUE(ParseChatRequest(valid).ok());
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s = valid;
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
    rejected += !ParseChatRequest(s).ok();
  }
  EXPECT_GT(rejected, 10000);
}

}  // namespace
}  // namespace cairn::serve
