#include "ledger/summary.h"

#include <cinttypes>
#include <cstdio>
#include <set>

#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

std::string Micros(int64_t m) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s%" PRId64 ".%06" PRId64, m < 0 ? "-" : "", (m < 0 ? -m : m) / 1'000'000,
                (m < 0 ? -m : m) % 1'000'000);
  return buf;
}
std::string Hex8(const std::string& key) { return HexEncode(key.substr(0, 8)); }

}  // namespace

std::string VerdictSummary(const PayoutEngine& e) {
  std::string out = "verdicts (job attempt round worker: result [step] by signer, why drawn)\n";
  size_t pass = 0, fail = 0, nc = 0, open = 0;
  for (const auto& [k, c] : e.challenges()) {
    const std::string why = c.probation ? "probation" : c.flags ? "flagged " + AuditFlagNames(c.flags) : "drawn";
    std::string line = "  " + k.job + " " + std::to_string(k.attempt) + " " + std::to_string(k.round) + " " + Hex8(k.worker) + ": ";
    if (c.result.empty()) {
      line += "open";
      ++open;
    } else {
      line += c.result + (c.result == "fail" ? " [step " + std::to_string(c.step) + "]" : "") + " by " + Hex8(c.signer);
      ++(c.result == "pass" ? pass : c.result == "fail" ? fail : nc);
    }
    out += line + ", " + why + "\n";
  }
  char tail[160];
  std::snprintf(tail, sizeof(tail), "  %zu replays drawn: %zu pass, %zu fail, %zu not comparable, %zu without a verdict\n",
                e.challenges().size(), pass, fail, nc, open);
  return out + tail;
}

std::string ReputationSummary(const PayoutEngine& e) {
  std::string out = "reputations (worker: reputation rounds passes fails not-comparable flagged)\n";
  for (const auto& [key, r] : e.worker_records()) {
    char line[200];
    std::snprintf(line, sizeof(line), "  %s: %.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
                  Hex8(key).c_str(), ReputationPpm(r) / 1e6, r.rounds, r.passes, r.fails, r.not_comparable, r.flagged);
    out += line;
  }
  return out;
}

std::string PayoutSummary(const PayoutEngine& e) {
  std::map<std::string, std::map<std::string, uint64_t>> earned;
  for (const auto& x : e.earnings()) earned[x.account][x.reason] += x.micros;
  std::set<std::string> accounts;
  for (const auto& [a, m] : e.available()) accounts.insert(a);
  for (const auto& [a, m] : earned) accounts.insert(a);
  std::string out = "payouts (account: available held; earned by reason)\n";
  for (const std::string& a : accounts) {
    std::string how;
    for (const auto& [reason, m] : earned[a]) how += (how.empty() ? "" : ", ") + reason + " " + Micros(static_cast<int64_t>(m));
    out += "  " + Hex8(a) + ": " + Micros(e.Available(a)) + " " + Micros(static_cast<int64_t>(e.HeldFor(a))) + "; " + how + "\n";
  }
  out += "  credited " + Micros(static_cast<int64_t>(e.total_credited())) + ", escrow " +
         Micros(static_cast<int64_t>(e.total_escrow())) + ", held " + Micros(static_cast<int64_t>(e.total_held())) +
         ", settled " + Micros(static_cast<int64_t>(e.total_settled())) + "\n";
  return out;
}

}  // namespace cairn::ledger
