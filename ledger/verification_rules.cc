#include "ledger/verification_rules.h"

#include <algorithm>

namespace cairn::ledger {
namespace {

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::string AuditFlagNames(uint32_t flags) {
  static const std::pair<uint32_t, const char*> kNames[] = {
      {kFlagAssignment, "assignment"}, {kFlagState, "state"},         {kFlagTimestamps, "timestamps"},
      {kFlagNorm, "norm"},             {kFlagDirection, "direction"}, {kFlagDuplicate, "duplicate"},
      {kFlagMissing, "missing"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (flags & bit) out += (out.empty() ? "" : ",") + std::string(name);
  }
  return out;
}

uint32_t ReputationPpm(const WorkerRecord& w) {
  __extension__ typedef unsigned __int128 U128;
  const U128 x = U128(10) * w.passes + w.rounds;
  const U128 denominator = x + 10 + U128(100) * w.fails + U128(10) * w.flagged;
  return static_cast<uint32_t>(x * kMillion / denominator);
}

uint32_t ReplayProbabilityPpm(uint32_t p_min_ppm, const WorkerRecord& w) {
  return std::min<uint32_t>(kMillion, std::max(p_min_ppm, kMillion - ReputationPpm(w)));
}

uint64_t ChallengeDraw(const Hash& tree_head, const std::string& job, uint32_t attempt, uint64_t round,
                       const std::string& worker_key) {
  std::string in = "cairn/challenge/v1\n";
  in.append(reinterpret_cast<const char*>(tree_head.data()), tree_head.size());
  PutLe(in, job.size(), 4);
  in += job;
  PutLe(in, attempt, 4);
  PutLe(in, round, 8);
  in += worker_key;
  const Sha256Digest d = Sha256(in);
  uint64_t draw = 0;
  for (int i = 0; i < 8; ++i) draw = (draw << 8) | d[i];
  return draw;
}

bool DrawHits(uint64_t draw, uint32_t p_ppm) {
  __extension__ typedef unsigned __int128 U128;
  return static_cast<U128>(draw) * kMillion < (static_cast<U128>(p_ppm) << 64);
}

}  // namespace cairn::ledger
