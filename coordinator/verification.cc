// The coordinator's side of verification (docs/verification.md): the cheap
// checks of every round (a roundAudited entry once its receipts are in),
// a verification task for every challenge the log draws, the challenges
// each worker's heartbeats list, and what a failing verdict does to a job.
#include <algorithm>

#include "coordinator/coordinator.h"
#include "coordinator/round_audit.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "train/train_config.h"

namespace cairn::coordinator {
namespace {

// `s` inside a YAML single-quoted scalar: a quote is doubled.
std::string YamlSingleQuoted(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out;
}

std::string IdOfKey(const std::string& key) {
  auto k = Ed25519PublicKey::FromBytes(key);
  return k.ok() ? k->KeyId() : HexEncode(key);
}
std::string Short(const std::string& key) { return HexEncode(key).substr(0, 8); }
std::string RoundName(const ledger::ChallengeKey& k) {
  return "round " + std::to_string(k.round) + " (attempt " + std::to_string(k.attempt) + ") by " + Short(k.worker);
}

}  // namespace

std::string Coordinator::VerifyTaskId(const ledger::ChallengeKey& k) {
  const std::string what = k.job + "/" + std::to_string(k.attempt) + "/" + std::to_string(k.round) + "/" + k.worker;
  return "verify-" + HexEncode(DigestView(Sha256(what))).substr(0, 12);
}

std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> Coordinator::OpenChallenges() const {
  std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> out;
  for (auto& [k, c] : balances_.OpenChallenges()) {
    // A worker already removed from the job has nothing held to judge.
    if (!balances_.Removed(k.job, k.worker)) out.emplace_back(k, c);
  }
  return out;
}

bool Coordinator::Excluded(const scheduler::JobRecord& job, const std::string& worker) const {
  auto key = key_by_worker_.find(worker);
  if (key == key_by_worker_.end()) return false;
  // A replay is never the worker's own, nor that of a worker once caught cheating.
  if (job.spec.kind == JobKind::kVerify) {
    return HexEncode(key->second) == job.spec.target.worker || balances_.RecordOf(key->second).fails > 0;
  }
  return balances_.Removed(job.id, key->second);
}

void Coordinator::AuditRounds() {
  if (!log_->health().ok()) return;
  const int64_t now = options_.clock->NowUnixMillis();
  for (const auto& [round, unaudited] : balances_.Unaudited()) {
    if (audits_in_flight_.count(round)) continue;
    const std::string job_id = std::get<0>(round);
    const uint32_t attempt = std::get<1>(round);
    const uint64_t r = std::get<2>(round);
    const std::map<std::string, ReceiptFacts> facts = audit_.Round(job_id, attempt, r);
    size_t group = 1;
    int64_t oldest = now;
    for (const std::string& w : unaudited) {
      auto f = facts.find(w);
      if (f == facts.end()) continue;
      group = std::max(group, f->second.members.size());
      oldest = std::min(oldest, f->second.accepted_ms);
    }
    if (facts.size() < group && now - oldest < options_.audit_wait_ms) continue;  // more receipts of the round to come
    auto job = cluster_->Job(job_id);
    AuditContext ctx;
    bool int8 = false;
    if (job.ok()) {
      ctx.diloco = job->spec.strategy == jobspec::Strategy::kDiloco;
      auto cfg = train::ConfigFromSpec(job->spec);
      int8 = cfg.ok() && cfg->compress_int8;
      auto m = job->spec.datasets.empty() ? StatusOr<data::Manifest>(NotFoundError("")) : datasets_->LoadManifest(job->spec.datasets[0]);
      if (m.ok() && m->format == data::Format::kIdx) {
        ctx.shard_by_chunk = true;
        for (const auto& s : m->splits) {
          if (s.name == "train") break;
          ctx.chunk_base += static_cast<uint32_t>(s.chunks.size());
        }
      }
      if (!flops_per_step_.count(job_id)) {
        auto resolved = Resolve(job->spec);
        auto cost = resolved.ok() ? scheduler::EstimateTrainingCost(job->spec, resolved->datasets, {{1.0, 1}}, 0)
                                  : StatusOr<scheduler::CostEstimate>(resolved.status());
        flops_per_step_[job_id] = cost.ok() ? cost->flops_per_step : 0;
      }
    }
    std::vector<AuditedReceipt> before;
    for (const auto& [w, f] : audit_.Round(job_id, attempt, r - 1)) {
      AuditedReceipt b;
      b.fp_after = f.fp_after;
      before.push_back(std::move(b));
    }
    ctx.previous_consensus = r > 1 ? ConsensusAfter(before) : "";
    ctx.earlier_updates = audit_.EarlierUpdates(job_id, attempt, r);
    std::vector<AuditedReceipt> receipts;
    for (const auto& [key, f] : facts) {
      AuditedReceipt a;
      a.worker = key;
      a.rank = f.rank;
      a.members = f.members.empty() ? std::vector<uint32_t>{0} : f.members;
      const std::string id = IdOfKey(key);
      if (job.ok() && job->attempt == attempt) {
        auto at = std::find(job->workers.begin(), job->workers.end(), id);
        if (at != job->workers.end() && static_cast<size_t>(at - job->workers.begin()) < job->uids.size()) {
          a.uid = job->uids[static_cast<size_t>(at - job->workers.begin())];
        }
      }
      a.fp_before = f.fp_before;
      a.fp_after = f.fp_after;
      a.update_hash = f.update_hash;
      a.has_commitments = f.state_hash.size() == 32 && f.steps_hash.size() == 32 && f.update_hash.size() == 32;
      a.start_ms = f.start_ms;
      a.end_ms = f.end_ms;
      a.window_ms = f.window_ms;
      a.accepted_ms = f.accepted_ms;
      a.previous_end_ms = f.previous_end_ms;
      a.chunks = f.chunks;
      auto worker = cluster_->workers().find(id);
      const double tflops = worker == cluster_->workers().end() ? 0 : worker->second.state.tflops;
      const double flops = flops_per_step_.count(job_id) ? flops_per_step_[job_id] : 0;
      if (tflops > 0 && flops > 0) a.min_seconds = f.steps * flops / (tflops * 1e12) / 10;
      if (ctx.diloco && f.update_hash.size() == 32) {
        auto blob = datasets_->blobs().Get(DigestFromBytes(f.update_hash).value());
        std::string error;
        if (blob.ok()) a.update = UpdateValues(*blob, int8, &error);
      }
      receipts.push_back(std::move(a));
    }
    std::vector<AuditVerdict> verdicts = AuditRound(ctx, receipts);
    std::vector<AuditVerdict> rows;
    for (const AuditVerdict& v : verdicts) {
      if (std::find(unaudited.begin(), unaudited.end(), v.worker) != unaudited.end()) rows.push_back(v);
    }
    if (rows.empty()) continue;
    for (const AuditVerdict& v : rows) {
      if (v.flags != 0) {
        Log(job_id, "round " + std::to_string(r) + ": the cheap checks flag " + Short(v.worker) + " (" +
                        ledger::AuditFlagNames(v.flags) + ": " + v.note + "); its round will be replayed");
      }
    }
    audits_in_flight_.insert(round);
    const auto key = round;
    Status s = Record(
        [&](ledger::schema::LedgerEntry::Body::Builder b) {
          auto a = b.initRoundAudited();
          a.setJobId(job_id);
          a.setAttempt(attempt);
          a.setRound(r);
          auto list = a.initRows(static_cast<unsigned>(rows.size()));
          for (unsigned i = 0; i < rows.size(); ++i) {
            list[i].setWorker(ledger::AsData(rows[i].worker));
            list[i].setFlags(rows[i].flags);
            list[i].setNote(rows[i].note.substr(0, 256));
          }
        },
        [this, key](StatusOr<uint64_t>) { audits_in_flight_.erase(key); });
    if (!s.ok()) {
      audits_in_flight_.erase(key);
      CAIRN_LOG_WARN("audit of round {} of {} not recorded: {}", r, job_id, s.ToString());
    }
  }
}

void Coordinator::NotComparable(const ledger::ChallengeKey& k, const std::string& why) {
  if (answers_in_flight_.count(k)) return;
  answers_in_flight_.insert(k);
  Log(k.job, RoundName(k) + " is not comparable: " + why + "; its pay is released as if it passed");
  const int64_t now = options_.clock->NowUnixMillis();
  Status s = Record(
      [&](ledger::schema::LedgerEntry::Body::Builder b) {
        auto v = b.initVerdict();
        v.setJobId(k.job);
        v.setAttempt(k.attempt);
        v.setRound(k.round);
        v.setWorker(ledger::AsData(k.worker));
        v.setResult("not comparable");
        v.setReason(why.substr(0, 256));
        v.setReplayStartUnixMillis(now);
        v.setReplayEndUnixMillis(now);
      },
      [this, k](StatusOr<uint64_t>) { answers_in_flight_.erase(k); });
  if (!s.ok()) answers_in_flight_.erase(k);
}

void Coordinator::RunChallenges() {
  open_challenges_ = OpenChallenges();
  if (!log_->health().ok()) return;
  const int64_t now = options_.clock->NowUnixMillis();
  for (const auto& [k, c] : open_challenges_) {
    if (answers_in_flight_.count(k)) continue;
    const std::string task = VerifyTaskId(k);
    auto existing = cluster_->Job(task);
    if (existing.ok()) {
      if (existing->state == JobState::kFailed || existing->state == JobState::kCancelled) {
        NotComparable(k, "its replay could not run (" + existing->message.substr(0, 120) + ")");
      } else if (existing->state == JobState::kQueued && now - c.audited_ms > options_.verify_wait_ms) {
        Apply(cluster_->Cancel(task).value_or(std::vector<ClusterEvent>{}));
        NotComparable(k, "no verifier was free within " + std::to_string(options_.verify_wait_ms / 1000) + " s");
      }
      continue;
    }
    auto f = audit_.Receipt(k.job, k.attempt, k.round, k.worker);
    auto submitted = audit_.Submitted(k.job);
    if (!f || !submitted || f->accepted_index == 0) continue;
    // Drawn after the worker let the round go (an audit that came late):
    // not the worker's failure.
    const uint64_t kept = ledger::RetainedRounds(balances_.Policy(k.job).hold);
    if (audit_.LatestRound(k.job, k.attempt, k.worker) + 2 >= k.round + kept && f->state_hash.size() == 32 &&
        !datasets_->blobs().Has(DigestFromBytes(f->state_hash).value())) {
      NotComparable(k, "challenged after the worker's retention window of " + std::to_string(kept) + " rounds");
      continue;
    }
    // Anyone else who could replay it on the same profile?
    const std::string challenged = IdOfKey(k.worker);
    bool someone = false;
    for (const auto& [id, w] : cluster_->workers()) someone = someone || (w.alive && id != challenged && w.state.profile == f->profile);
    if (!someone) {
      if (now - c.audited_ms > options_.no_verifier_grace_ms) {
        NotComparable(k, "no other worker has its determinism profile (" + f->profile.substr(0, 120) + ")");
      }
      continue;
    }
    // Flagged rounds first, then probation, then the drawn ones: a cheater
    // the cheap checks saw is judged before the queue of routine replays.
    const int priority = c.flags ? 1000 : c.probation ? 900 : 800;
    std::string yaml = "name: verify\nkind: verify\npriority: " + std::to_string(priority) + "\nmax_retries: 2\ntarget:\n";
    yaml += "  job: " + k.job + "\n  attempt: " + std::to_string(k.attempt) + "\n  round: " + std::to_string(k.round) +
            "\n  worker: " + HexEncode(k.worker) + "\n  world: " + std::to_string(std::max<uint32_t>(1, audit_.PlacedWorld(k.job, k.attempt))) +
            "\n  submitted: " + std::to_string(*submitted) + "\n  receipt: " + std::to_string(f->index) +
            "\n  accepted: " + std::to_string(f->accepted_index) + "\n  window: " + std::to_string(f->window_index) +
            "\n  previous: " + std::to_string(f->previous_index) + "\n  answer_seconds: " + std::to_string(options_.answer_seconds) +
            "\n  profile: '" + YamlSingleQuoted(f->profile) + "'\n";
    // A round trained on a GPU replays on a GPU worker of the same profile.
    if (f->profile.find(";device=cuda") != std::string::npos) yaml += "resources: {device: cuda}\n";
    auto spec = jobspec::ParseJobSpec(yaml, task);
    if (!spec.ok()) {
      NotComparable(k, "its replay could not be described: " + std::string(spec.status().message()).substr(0, 120));
      continue;
    }
    if (!cluster_->Submit(*spec, "operator", task).ok()) continue;
    spec_text_[task] = yaml;
    Log(k.job, RoundName(k) + " is replayed by task " + task + (c.probation ? " (probation)" : c.flags ? " (flagged)" : " (drawn)"));
    Log(task, "replaying " + RoundName(k) + " of " + k.job);
    PersistDirty();
  }
  // Reputations, for placement's scores.
  if (now - last_reputation_ms_ >= 1000) {
    last_reputation_ms_ = now;
    for (const auto& [id, w] : cluster_->workers()) {
      auto key = key_by_worker_.find(id);
      if (key != key_by_worker_.end()) cluster_->SetReputation(id, ledger::ReputationPpm(balances_.RecordOf(key->second)) / 1e6);
    }
  }
}

std::vector<wire::Challenge> Coordinator::ChallengesFor(const std::string& worker) {
  std::vector<wire::Challenge> out;
  auto key = key_by_worker_.find(worker);
  if (key == key_by_worker_.end()) return out;
  const int64_t now = options_.clock->NowUnixMillis();
  for (const auto& [k, c] : open_challenges_) {
    if (k.worker != key->second || out.size() >= 64) continue;
    if (now - c.audited_ms > static_cast<int64_t>(options_.answer_seconds) * 1000 + 60'000) continue;  // too late now
    auto f = audit_.Receipt(k.job, k.attempt, k.round, k.worker);
    if (!f || f->state_hash.size() != 32 || f->steps_hash.size() != 32) continue;
    auto state = DigestFromBytes(f->state_hash), steps = DigestFromBytes(f->steps_hash);
    if (datasets_->blobs().Has(*state) && datasets_->blobs().Has(*steps)) continue;  // disclosed
    out.push_back(wire::Challenge{k.job, k.attempt, k.round, f->state_hash, f->steps_hash});
  }
  return out;
}

void Coordinator::OnVerdictCommitted(const ledger::ChallengeKey& k, const std::string& result, const std::string& verifier) {
  std::string reason;
  for (const auto& [key, c] : balances_.Challenges()) {
    if (key.job == k.job && key.attempt == k.attempt && key.round == k.round && key.worker == k.worker) reason = c.reason;
  }
  Log(k.job, RoundName(k) + " replayed by " + verifier.substr(0, 8) + ": " + result + (reason.empty() ? "" : " (" + reason + ")"));
  const std::string worker = IdOfKey(k.worker);
  cluster_->SetReputation(worker, ledger::ReputationPpm(balances_.RecordOf(k.worker)) / 1e6);
  if (result != "fail" || !removed_.insert({k.job, k.worker}).second) return;
  auto checkpoint = view_.CheckpointBefore(k.job, k.round);
  const uint64_t resume = checkpoint ? checkpoint->round : 0;
  auto events = cluster_->RemoveForFraud(k.job, worker, resume, "its round " + std::to_string(k.round) + " failed its replay");
  Log(k.job, "worker " + worker.substr(0, 8) + " is removed from the job: its held pay goes back to the escrow" +
                 (events.ok() && !events->empty() ? "; the job is redone from round " + std::to_string(resume) + " without it"
                                                  : std::string()));
  if (events.ok()) Apply(std::move(*events));
}

void Coordinator::AssignVerifier(const scheduler::JobRecord& task, const std::string& worker) {
  const jobspec::VerifyTarget& t = task.spec.target;
  auto it = cluster_->workers().find(worker);
  const uint64_t price = it == cluster_->workers().end() ? 0 : it->second.state.price_per_hour_micros;
  const std::string job_id = task.id;
  const uint32_t attempt = task.attempt;
  pending_placements_.insert({job_id, attempt, worker});
  Status s = Record(
      [&](ledger::schema::LedgerEntry::Body::Builder b) {
        auto v = b.initVerifierAssigned();
        v.setJobId(t.job);
        v.setAttempt(t.attempt);
        v.setRound(t.round);
        v.setWorker(ledger::AsData(DecodeAccount(t.worker).value_or("")));
        v.setVerifier(ledger::AsData(key_by_worker_[worker]));
        v.setPricePerHourMicros(price);
        v.setTask(job_id);
        v.setTaskAttempt(attempt);
      },
      [this, job_id, attempt, worker](StatusOr<uint64_t> index) {
        pending_placements_.erase({job_id, attempt, worker});
        if (!index.ok()) {
          // The engine refused it (the round got its verdict meanwhile): nothing to replay.
          Apply(cluster_->Cancel(job_id).value_or(std::vector<ClusterEvent>{}));
          return;
        }
        SendAssign(job_id, worker);
      });
  if (!s.ok()) {
    pending_placements_.erase({job_id, attempt, worker});
    Log(job_id, "verifier not recorded: " + s.ToString());
    Apply(cluster_->Cancel(job_id).value_or(std::vector<ClusterEvent>{}));
  }
}

}  // namespace cairn::coordinator
