// verify: (a train job's replay policy) and target: (a verification task's
// round), docs/verification.md.
#include <cmath>

#include "jobspec/spec_parser.h"

namespace cairn::jobspec::internal {

Status Parser::ParseVerify(const YAML::Node& root, JobSpec* spec) const {
  const bool replayable = spec->kind == JobKind::kTrain && spec->strategy != Strategy::kDdp;
  VerifyPolicySpec& v = spec->verify;
  // The defaults. A chain link costs a fingerprint of the parameters (~0.5 ms
  // a MB): every 50 steps it stays under 1% of training (bench/RESULTS.md).
  if (replayable) v = VerifyPolicySpec{true, 100000, 3, 10, 50};
  if (const YAML::Node n = root["verify"]) {
    if (spec->kind != JobKind::kTrain) return Error(n, "verify", "only train jobs are verified");
    if (n.IsScalar() && (n.Scalar() == "off" || n.Scalar() == "false")) {
      v = VerifyPolicySpec{};
    } else {
      if (spec->strategy == Strategy::kDdp) {
        return Error(n, "verify",
                     "ddp rounds cannot be replayed bit for bit (Gloo sums gradients in its own order); "
                     "train untrusted workers with diloco, or say verify: off");
      }
      if (!(n.IsScalar() && (n.Scalar() == "on" || n.Scalar() == "true"))) {
        RETURN_IF_ERROR(Keys(n, "verify.", {"p_min", "probation", "window", "chain_every"}));
        if (n["p_min"]) {
          ASSIGN_OR_RETURN(std::string s, Scalar(n["p_min"], "verify.p_min"));
          char* end = nullptr;
          const double p = std::strtod(s.c_str(), &end);
          if (s.empty() || *end != '\0' || !(p > 0 && p <= 1)) {
            return Error(n["p_min"], "verify.p_min", "must be a probability above 0 and at most 1, got '" + s + "'");
          }
          v.replay_ppm = static_cast<uint32_t>(std::llround(p * 1e6));
          if (v.replay_ppm == 0) v.replay_ppm = 1;
          if (!n["window"]) v.hold = static_cast<uint32_t>(std::ceil(1e6 / v.replay_ppm));
        }
        if (n["probation"]) {
          ASSIGN_OR_RETURN(uint64_t r, Integer(n["probation"], "verify.probation", 0, 10'000));
          v.probation = static_cast<uint32_t>(r);
        }
        if (n["window"]) {
          ASSIGN_OR_RETURN(uint64_t w, Integer(n["window"], "verify.window", 0, 1'000'000));
          v.hold = static_cast<uint32_t>(w);
          const uint64_t least = (1'000'000 + v.replay_ppm - 1) / v.replay_ppm;
          if (w < least) {
            return Error(n["window"], "verify.window",
                         "must be at least 1/p_min = " + std::to_string(least) +
                             " rounds, so a cheater is likely caught before its pay is released (got " + std::to_string(w) + ")");
          }
        }
        if (n["chain_every"]) {
          ASSIGN_OR_RETURN(uint64_t c, Integer(n["chain_every"], "verify.chain_every", 1, 1'000'000));
          v.chain_every = static_cast<uint32_t>(c);
        }
      }
      v.on = true;
    }
  }
  const YAML::Node t = root["target"];
  if (spec->kind != JobKind::kVerify) {
    if (t) return Error(t, "target", "only applies to kind: verify");
    return OkStatus();
  }
  if (!t) return Error(root, "target", "a verify task needs target: {job, attempt, round, worker, ...}");
  RETURN_IF_ERROR(Keys(t, "target.", {"job", "attempt", "round", "worker", "world", "submitted", "receipt", "accepted",
                                      "window", "previous", "answer_seconds", "profile"}));
  VerifyTarget& g = spec->target;
  for (const char* required : {"job", "attempt", "round", "worker", "world", "submitted", "receipt", "accepted", "window"}) {
    if (!t[required]) return Error(t, std::string("target.") + required, "is required");
  }
  ASSIGN_OR_RETURN(g.job, Scalar(t["job"], "target.job"));
  ASSIGN_OR_RETURN(uint64_t attempt, Integer(t["attempt"], "target.attempt", 0, UINT32_MAX));
  g.attempt = static_cast<uint32_t>(attempt);
  ASSIGN_OR_RETURN(g.round, Integer(t["round"], "target.round", 1, UINT64_MAX >> 1));
  ASSIGN_OR_RETURN(g.worker, Scalar(t["worker"], "target.worker"));
  RETURN_IF_ERROR(AccountHex(t["worker"], "target.worker", &g.worker));
  ASSIGN_OR_RETURN(uint64_t world, Integer(t["world"], "target.world", 1, 1024));
  g.world = static_cast<uint32_t>(world);
  const uint64_t kMaxIndex = UINT64_MAX >> 1;
  ASSIGN_OR_RETURN(g.submitted, Integer(t["submitted"], "target.submitted", 0, kMaxIndex));
  ASSIGN_OR_RETURN(g.receipt, Integer(t["receipt"], "target.receipt", 0, kMaxIndex));
  ASSIGN_OR_RETURN(g.accepted, Integer(t["accepted"], "target.accepted", 0, kMaxIndex));
  ASSIGN_OR_RETURN(g.window, Integer(t["window"], "target.window", 0, kMaxIndex));
  if (t["previous"]) {
    ASSIGN_OR_RETURN(g.previous, Integer(t["previous"], "target.previous", 0, kMaxIndex));
  }
  if (t["profile"]) {
    ASSIGN_OR_RETURN(g.profile, Scalar(t["profile"], "target.profile"));
  }
  if (t["answer_seconds"]) {
    ASSIGN_OR_RETURN(uint64_t s, Integer(t["answer_seconds"], "target.answer_seconds", 1, 86'400));
    g.answer_seconds = static_cast<uint32_t>(s);
  }
  return OkStatus();
}

}  // namespace cairn::jobspec::internal
