// The payout engine's verification rules (docs/verification.md,
// docs/ledger.md "Payouts"): held pay, the audit that draws which rounds
// are replayed, verifiers' assignments and verdicts, forfeiture and the
// records reputation is computed from.
#include <algorithm>

#include "ledger/payouts.h"
#include "ledger/payouts_internal.h"

namespace cairn::ledger {
namespace {

std::string Round(const std::string& job, uint32_t attempt, uint64_t round) {
  return "round " + std::to_string(round) + " of attempt " + std::to_string(attempt) + " of " + job;
}

}  // namespace

uint64_t PayoutEngine::HeldFor(const std::string& account) const {
  auto it = held_by_account_.find(account);
  return it == held_by_account_.end() ? 0 : it->second;
}

uint64_t PayoutEngine::total_held() const {
  uint64_t total = 0;
  for (const auto& [id, job] : jobs_) total += job.funds.held;
  return total;
}

std::vector<std::pair<ChallengeKey, ChallengeState>> PayoutEngine::OpenChallenges() const {
  std::vector<std::pair<ChallengeKey, ChallengeState>> out;
  for (const ChallengeKey& k : open_) out.emplace_back(k, challenges_.at(k));
  return out;
}

WorkerRecord PayoutEngine::RecordOf(const std::string& worker_key) const {
  auto it = records_.find(worker_key);
  return it == records_.end() ? WorkerRecord{} : it->second;
}

bool PayoutEngine::Removed(const std::string& job_id, const std::string& worker_key) const {
  auto it = jobs_.find(job_id);
  return it != jobs_.end() && it->second.removed.count(worker_key) > 0;
}

VerifyPolicy PayoutEngine::PolicyOf(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? VerifyPolicy{} : it->second.policy;
}

std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>> PayoutEngine::Unaudited() const {
  std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>> out;
  for (const auto& [id, job] : jobs_) {
    if (job.funds.closed) continue;
    for (const auto& [key, held] : job.held) {
      if (!held.audited) out[{id, std::get<0>(key), std::get<1>(key)}].push_back(std::get<2>(key));
    }
  }
  return out;
}

void PayoutEngine::Release(uint64_t index, const std::string& job_id, Job& job, const std::string& worker, Held& h) {
  Pay(index, worker, h.compute, "compute", job_id);
  job.funds.held -= h.compute;
  held_by_account_[worker] -= h.compute;
  for (const auto& [owner, micros] : h.data) {
    Pay(index, owner, micros, "data", job_id);
    job.funds.held -= micros;
    held_by_account_[owner] -= micros;
  }
}

void PayoutEngine::ReleaseDue(uint64_t index, const std::string& job_id, Job& job, bool all) {
  for (auto it = job.held.begin(); it != job.held.end();) {
    Held& h = it->second;
    const bool due = h.audited && job.audits >= h.audit_no + job.policy.hold && (!h.challenged || h.answered);
    if (all || due) {
      Release(index, job_id, job, std::get<2>(it->first), h);
      it = job.held.erase(it);
    } else {
      ++it;
    }
  }
}

Status PayoutEngine::ApplyAudited(uint64_t index, const EntryHeader& h, schema::RoundAudited::Reader b) {
  RETURN_IF_ERROR(RequireOperator(h.actor, "roundAudited"));
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return FailedPreconditionError("audit of unknown job " + id);
  Job& job = it->second;
  if (job.funds.closed) return FailedPreconditionError("audit of job " + id + ", which is closed");
  if (!job.policy.on()) return FailedPreconditionError("job " + id + " was submitted without verification");
  if (!tree_valid_) return FailedPreconditionError("the engine did not see every entry: it cannot know the tree head");
  const uint32_t attempt = b.getAttempt();
  const uint64_t round = b.getRound();
  // Every row first: a refused entry changes nothing.
  std::set<std::string> seen;
  for (auto row : b.getRows()) {
    const std::string w = FromData(row.getWorker());
    if (!seen.insert(w).second) return InvalidArgumentError("roundAudited lists worker " + Short(w) + " twice");
    auto held = job.held.find({attempt, round, w});
    if (held == job.held.end()) {
      return FailedPreconditionError("no accepted receipt of " + Short(w) + " for " + Round(id, attempt, round) +
                                     " awaits an audit");
    }
    if (held->second.audited) return AlreadyExistsError(Round(id, attempt, round) + " by " + Short(w) + " was audited already");
  }
  ++job.audits;
  const Hash head = tree_.Root();
  for (auto row : b.getRows()) {
    const std::string w = FromData(row.getWorker());
    Held& held = job.held.at({attempt, round, w});
    WorkerRecord& record = records_[w];
    if (row.getFlags() != 0) ++record.flagged;
    held.audited = true;
    held.audit_no = job.audits;
    const bool probation = held.rounds_before < job.policy.probation;
    const uint32_t p = ReplayProbabilityPpm(job.policy.replay_ppm, record);
    if (probation || row.getFlags() != 0 || DrawHits(ChallengeDraw(head, id, attempt, round, w), p)) {
      held.challenged = true;
      ChallengeState c;
      c.audit_index = index;
      c.audited_ms = h.timestamp_unix_millis;
      c.flags = row.getFlags();
      c.probation = probation;
      challenges_[ChallengeKey{id, attempt, round, w}] = std::move(c);
      open_.insert(ChallengeKey{id, attempt, round, w});
    }
  }
  ReleaseDue(index, id, job, /*all=*/false);
  return OkStatus();
}

Status PayoutEngine::ApplyVerifierAssigned(const EntryHeader& h, schema::VerifierAssigned::Reader b) {
  RETURN_IF_ERROR(RequireOperator(h.actor, "verifierAssigned"));
  const std::string id(b.getJobId().cStr());
  auto job = jobs_.find(id);
  if (job == jobs_.end() || job->second.funds.closed) return FailedPreconditionError("job " + id + " is not open");
  const ChallengeKey key{id, b.getAttempt(), b.getRound(), FromData(b.getWorker())};
  auto c = challenges_.find(key);
  if (c == challenges_.end()) {
    return FailedPreconditionError("the log draws no replay of " + Round(id, key.attempt, key.round) + " by " + Short(key.worker));
  }
  if (!c->second.result.empty()) return FailedPreconditionError(Round(id, key.attempt, key.round) + " already has a verdict");
  c->second.verifier = FromData(b.getVerifier());
  c->second.price_per_hour = b.getPricePerHourMicros();
  c->second.assigned_ms = h.timestamp_unix_millis;
  c->second.task = b.getTask().cStr();
  c->second.task_attempt = b.getTaskAttempt();
  return OkStatus();
}

Status PayoutEngine::ApplyVerdict(uint64_t index, const EntryHeader& h, schema::Verdict::Reader b) {
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second.funds.closed) return FailedPreconditionError("job " + id + " is not open");
  Job& job = it->second;
  const std::string worker = FromData(b.getWorker());
  const ChallengeKey key{id, b.getAttempt(), b.getRound(), worker};
  auto c = challenges_.find(key);
  if (c == challenges_.end()) {
    return FailedPreconditionError("the log draws no replay of " + Round(id, key.attempt, key.round) + " by " + Short(worker));
  }
  ChallengeState& ch = c->second;
  if (!ch.result.empty()) return AlreadyExistsError(Round(id, key.attempt, key.round) + " by " + Short(worker) + " already has a verdict");
  const std::string result = b.getResult().cStr();
  const bool by_operator = h.actor == operator_;
  if (by_operator && result != "not comparable") {
    return PermissionDeniedError("the operator may only say a round is not comparable; pass and fail come from a verifier's replay");
  }
  if (!by_operator && (ch.verifier.empty() || h.actor != ch.verifier)) {
    return PermissionDeniedError(Short(h.actor) + " was not assigned to replay " + Round(id, key.attempt, key.round));
  }
  if (!by_operator) {  // the verifier's replay, paid like compute: its signed time, bounded by what the log saw
    const uint64_t signed_ms = MillisBetween(b.getReplayStartUnixMillis(), b.getReplayEndUnixMillis());
    const uint64_t millis = std::min(signed_ms, MillisBetween(ch.assigned_ms, h.timestamp_unix_millis));
    const uint64_t pay = std::min(job.funds.escrow(), MulDiv(millis, ch.price_per_hour, 3'600'000));
    Pay(index, h.actor, pay, "verification", id);
    job.funds.verify += pay;
  }
  open_.erase(key);
  ch.result = result;
  ch.step = b.getStep();
  ch.reason = b.getReason().cStr();
  ch.verdict_index = index;
  ch.signer = h.actor;
  WorkerRecord& record = records_[worker];
  if (result == "fail") {
    ++record.fails;
    // Everything it has held on this job goes back to the escrow.
    for (auto hit = job.held.begin(); hit != job.held.end();) {
      if (std::get<2>(hit->first) != worker) {
        ++hit;
        continue;
      }
      Held& held = hit->second;
      job.funds.compute -= held.compute;
      job.funds.held -= held.compute;
      job.funds.forfeited += held.compute;
      held_by_account_[worker] -= held.compute;
      for (const auto& [owner, micros] : held.data) {
        job.funds.data -= micros;
        job.funds.held -= micros;
        job.funds.forfeited += micros;
        held_by_account_[owner] -= micros;
      }
      hit = job.held.erase(hit);
    }
    job.removed.insert(worker);
  } else {
    ++(result == "pass" ? record.passes : record.not_comparable);
    auto held = job.held.find({key.attempt, key.round, worker});
    if (held != job.held.end()) held->second.answered = true;
  }
  ReleaseDue(index, id, job, /*all=*/false);
  return OkStatus();
}

}  // namespace cairn::ledger
