#include "serve/text_generation.h"

#include <cmath>
#include <random>

#include <torch/torch.h>

namespace cairn::serve::internal {
namespace {

// Bytes a UTF-8 sequence starting with `lead` has (1 for an invalid lead: it
// is passed on as is, and JSON encoding replaces it).
size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// How many bytes at the end of `s` are an unfinished UTF-8 character.
size_t IncompleteTail(const std::string& s) {
  for (size_t back = 1; back <= std::min<size_t>(3, s.size()); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[s.size() - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    const size_t need = Utf8Length(c);
    return need > back ? back : 0;
  }
  return 0;
}

// The log probability of `token` and the `k` most likely tokens under `logp`.
TokenLogprob Logprob(const torch::Tensor& logp, int64_t token, int k) {
  TokenLogprob t;
  t.token = token;
  t.logprob = logp[token].item<double>();
  if (k > 0) {  // read through accessors: one item() per alternative is a tensor op each
    auto [values, indices] = logp.topk(std::min<int64_t>(k, logp.size(0)));
    const auto v = values.accessor<float, 1>();
    const auto ix = indices.accessor<int64_t, 1>();
    for (int64_t i = 0; i < v.size(0); ++i) t.top.emplace_back(ix[i], v[i]);
  }
  return t;
}

// Logprobs of every prompt token given those before it, in windows of the
// model's context (a token at a window's start is scored by the window
// before's last position).
std::vector<TokenLogprob> PromptLogprobs(torch::jit::Module& module, const ModelInfo& info, const torch::Device& device,
                                         const std::vector<int64_t>& tokens, int k) {
  std::vector<TokenLogprob> out;
  if (tokens.empty()) return out;
  out.push_back(TokenLogprob{tokens[0], std::nullopt, {}});
  for (size_t start = 0; start + 1 < tokens.size(); start += static_cast<size_t>(info.context)) {
    const size_t end = std::min(tokens.size(), start + static_cast<size_t>(info.context));
    auto x = torch::tensor(std::vector<int64_t>(tokens.begin() + static_cast<std::ptrdiff_t>(start),
                                                tokens.begin() + static_cast<std::ptrdiff_t>(end)),
                           torch::kLong)
                 .unsqueeze(0)
                 .to(device);
    auto logp = torch::log_softmax(module.forward({x}).toTensor()[0].to(torch::kCPU, torch::kFloat32), -1);
    for (size_t i = start + 1; i <= end && i < tokens.size(); ++i) out.push_back(Logprob(logp[i - start - 1], tokens[i], k));
  }
  return out;
}

}  // namespace

StatusOr<Generation> GenerateText(torch::jit::Module& module, const ModelInfo& info, const torch::Device& device,
                                  const std::string& prompt, const GenerateOptions& o, const InferenceModel::OnText& on_text) {
  if (info.task != ModelTask::kTextGeneration) return FailedPreconditionError("this model does not generate text");
  if (o.max_tokens < 0) return InvalidArgumentError("max_tokens must be >= 0");
  if (o.temperature < 0) return InvalidArgumentError("temperature must be >= 0");
  if (o.top_p <= 0 || o.top_p > 1) return InvalidArgumentError("top_p must be in (0, 1]");
  for (const auto& [token, bias] : o.logit_bias) {
    if (token < 0 || token >= info.vocab) {
      return InvalidArgumentError("logit_bias: token " + std::to_string(token) + " is outside the vocabulary [0, " +
                                  std::to_string(info.vocab) + ")");
    }
  }
  Generation g;
  std::vector<int64_t> tokens;
  for (unsigned char c : prompt) tokens.push_back(c);
  g.prompt_tokens = static_cast<int64_t>(tokens.size());
  if (tokens.empty()) tokens.push_back('\n');
  at::Generator gen = at::detail::createCPUGenerator(o.seed ? *o.seed : std::random_device{}());
  const int k = std::max(0, o.top_logprobs);
  torch::Tensor bias = torch::zeros({info.vocab});
  for (const auto& [token, b] : o.logit_bias) bias[token] = b;
  const bool adjust = !o.logit_bias.empty() || o.presence_penalty != 0 || o.frequency_penalty != 0;
  torch::Tensor counts = torch::zeros({info.vocab});
  std::string text;
  std::vector<TokenLogprob> logprobs;
  size_t emitted = 0;
  g.finish_reason = "length";
  bool stopped_by_caller = false;
  auto emit = [&](size_t upto) {
    if (upto > emitted && on_text && !stopped_by_caller) {
      std::vector<TokenLogprob> piece_logprobs;
      if (o.top_logprobs >= 0) piece_logprobs.assign(logprobs.begin() + static_cast<std::ptrdiff_t>(emitted),
                                                     logprobs.begin() + static_cast<std::ptrdiff_t>(upto));
      if (!on_text(text.substr(emitted, upto - emitted), piece_logprobs)) stopped_by_caller = true;
    }
    emitted = std::max(emitted, upto);
  };
  try {
    c10::InferenceMode guard;
    if (o.prompt_logprobs && g.prompt_tokens > 0) g.prompt_logprobs = PromptLogprobs(module, info, device, tokens, k);
    for (int64_t i = 0; i < o.max_tokens && !stopped_by_caller; ++i) {
      const size_t start = tokens.size() > static_cast<size_t>(info.context) ? tokens.size() - info.context : 0;
      auto x = torch::tensor(std::vector<int64_t>(tokens.begin() + static_cast<std::ptrdiff_t>(start), tokens.end()), torch::kLong)
                   .unsqueeze(0)
                   .to(device);
      // Sampling stays on the CPU, with the request's own generator.
      auto logits = module.forward({x}).toTensor()[0][-1].to(torch::kCPU, torch::kFloat32);
      if (adjust) logits = logits + bias - o.frequency_penalty * counts - o.presence_penalty * (counts > 0).to(torch::kFloat32);
      int64_t next;
      if (o.temperature == 0) {
        next = logits.argmax().item<int64_t>();
      } else {
        auto probs = torch::softmax(logits / o.temperature, -1);
        if (o.top_p < 1) {
          auto [sorted, order] = probs.sort(-1, /*descending=*/true);
          auto cum = sorted.cumsum(-1);
          sorted.masked_fill_((cum - sorted) > o.top_p, 0);  // keep the smallest set reaching top_p
          probs = torch::zeros_like(probs).scatter(0, order, sorted);
        }
        next = torch::multinomial(probs, 1, false, gen).item<int64_t>();
      }
      if (o.top_logprobs >= 0) logprobs.push_back(Logprob(torch::log_softmax(logits, -1), next, k));
      if (adjust) counts[next] += 1;
      tokens.push_back(next);
      text.push_back(static_cast<char>(next));
      ++g.completion_tokens;
      // A stop sequence ends the text before it; text that could still
      // become one is held back from the stream.
      size_t cut = std::string::npos;
      for (const auto& s : o.stop) {
        if (s.empty()) continue;
        const size_t at = text.find(s, emitted >= s.size() ? emitted - s.size() : 0);
        if (at != std::string::npos) cut = std::min(cut, at);
      }
      if (cut != std::string::npos) {
        text.resize(cut);
        if (logprobs.size() > cut) logprobs.resize(cut);
        g.finish_reason = "stop";
        break;
      }
      size_t hold = IncompleteTail(text);
      for (const auto& s : o.stop) {
        if (s.empty()) continue;
        for (size_t n = std::min(s.size() - 1, text.size()); n > hold; --n) {
          if (text.compare(text.size() - n, n, s, 0, n) == 0) {
            hold = n;
            break;
          }
        }
      }
      emit(text.size() - hold);
    }
  } catch (const std::exception& e) {
    std::string what = e.what();
    return InternalError("generation failed: " + what.substr(0, what.find('\n')));
  }
  emit(text.size());
  g.text = std::move(text);
  g.logprobs = std::move(logprobs);
  return g;
}

}  // namespace cairn::serve::internal
