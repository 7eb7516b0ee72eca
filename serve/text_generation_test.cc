// Text generation's adjustable parts on a real exported char-gpt: logprobs
// (normalised, sorted, the chosen token's own), prompt logprobs for echo,
// logit_bias that bans or forces tokens, and presence/frequency penalties
// that change what greedy decoding repeats.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "serve/inference_model.h"
#include "serve/test_export.h"

namespace cairn::serve {
namespace {

std::unique_ptr<InferenceModel> Gpt() {
  auto loaded = InferenceModel::Load(ExportForTest("char-gpt"));
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return std::move(*loaded);
}

TEST(TextGeneration, LogprobsAreNormalisedSortedAndTheChosenTokens) {
  auto gpt = Gpt();
  GenerateOptions o;
  o.max_tokens = 12;
  o.seed = 3;
  o.top_logprobs = 5;
  o.prompt_logprobs = true;
  auto g = gpt->Generate("To be", o);
  ASSERT_TRUE(g.ok()) << g.status();
  ASSERT_EQ(g->logprobs.size(), 12u);
  for (size_t i = 0; i < g->logprobs.size(); ++i) {
    const auto& t = g->logprobs[i];
    EXPECT_EQ(t.token, static_cast<unsigned char>(g->text[i]));
    ASSERT_TRUE(t.logprob.has_value());
    EXPECT_LE(*t.logprob, 0.0);
    ASSERT_EQ(t.top.size(), 5u);
    double mass = 0;
    for (size_t k = 0; k < t.top.size(); ++k) {
      mass += std::exp(t.top[k].second);
      if (k) {
        EXPECT_GE(t.top[k - 1].second, t.top[k].second) << "most likely first";
      }
      if (t.top[k].first == t.token) {
        EXPECT_NEAR(t.top[k].second, *t.logprob, 1e-6);
      }
    }
    EXPECT_LE(mass, 1.0 + 1e-6);
    EXPECT_GT(mass, 0.0);
  }
  // Echo's logprobs: one per prompt byte, none for the first.
  ASSERT_EQ(g->prompt_logprobs.size(), 5u);
  EXPECT_FALSE(g->prompt_logprobs[0].logprob.has_value());
  for (size_t i = 1; i < 5; ++i) EXPECT_LE(*g->prompt_logprobs[i].logprob, 0.0);
  // Greedy picks the most likely token every time.
  o.temperature = 0;
  auto greedy = gpt->Generate("To be", o);
  for (const auto& t : greedy->logprobs) EXPECT_EQ(t.token, t.top[0].first);
  // No logprobs unless asked.
  o.top_logprobs = -1;
  o.prompt_logprobs = false;
  auto none = gpt->Generate("To be", o);
  EXPECT_TRUE(none->logprobs.empty() && none->prompt_logprobs.empty());
}

TEST(TextGeneration, LogitBiasBansAndForces) {
  auto gpt = Gpt();
  GenerateOptions o;
  o.max_tokens = 60;
  o.seed = 9;
  auto plain = gpt->Generate("abc", o);
  ASSERT_TRUE(plain.ok());
  // Ban the three bytes the unbiased text uses most.
  std::map<char, int> counts;
  for (char c : plain->text) ++counts[c];
  std::vector<std::pair<int, char>> by_count;
  for (auto [c, n] : counts) by_count.push_back({n, c});
  std::sort(by_count.rbegin(), by_count.rend());
  for (size_t i = 0; i < std::min<size_t>(3, by_count.size()); ++i) {
    o.logit_bias[static_cast<unsigned char>(by_count[i].second)] = -100;
  }
  auto banned = gpt->Generate("abc", o);
  for (const auto& [token, bias] : o.logit_bias) {
    EXPECT_EQ(banned->text.find(static_cast<char>(token)), std::string::npos) << "token " << token << ": " << banned->text;
  }
  o.logit_bias = {{'q', 100}};
  EXPECT_EQ(gpt->Generate("abc", o)->text, std::string(60, 'q'));
}

TEST(TextGeneration, PenaltiesDiscourageRepeats) {
  auto gpt = Gpt();
  GenerateOptions o;
  o.max_tokens = 60;
  o.temperature = 0;
  auto distinct = [](const std::string& s) { return std::set<char>(s.begin(), s.end()).size(); };
  auto greedy = gpt->Generate("abc", o);
  o.frequency_penalty = 2;
  o.presence_penalty = 2;
  auto penalized = gpt->Generate("abc", o);
  ASSERT_TRUE(greedy.ok() && penalized.ok());
  EXPECT_NE(greedy->text, penalized->text);
  EXPECT_GT(distinct(penalized->text), distinct(greedy->text)) << greedy->text << "\n" << penalized->text;
  // Negative penalties encourage repeats: fewer distinct bytes than greedy's.
  o.frequency_penalty = -2;
  o.presence_penalty = -2;
  auto repeating = gpt->Generate("abc", o);
  EXPECT_LE(distinct(repeating->text), distinct(greedy->text)) << repeating->text;
}

}  // namespace
}  // namespace cairn::serve
