// Names of the test-only misbehaviours (train/trainer.h, Misbehave).
#include "train/trainer.h"

namespace cairn::train {
namespace {

constexpr std::pair<Misbehave, const char*> kNames[] = {
    {Misbehave::kNone, "none"},           {Misbehave::kSkip, "skip"},
    {Misbehave::kLazy, "lazy"},           {Misbehave::kWrongData, "wrong-data"},
    {Misbehave::kRandom, "random"},       {Misbehave::kScaled, "scaled"},
    {Misbehave::kSignFlip, "sign-flip"},  {Misbehave::kStale, "stale"},
    {Misbehave::kCopy, "copy"},           {Misbehave::kForgedTimestamps, "forged-timestamps"},
    {Misbehave::kRefuseChallenge, "refuse-challenge"},
};

}  // namespace

StatusOr<Misbehave> ParseMisbehave(const std::string& name) {
  std::string all;
  for (const auto& [m, n] : kNames) {
    if (name == n) return m;
    all += (all.empty() ? "" : ", ") + std::string(n);
  }
  return InvalidArgumentError("unknown misbehaviour '" + name + "' (one of: " + all + ")");
}

const char* MisbehaveName(Misbehave m) {
  for (const auto& [mode, n] : kNames) {
    if (mode == m) return n;
  }
  return "none";
}

}  // namespace cairn::train
