// What workers report about their tasks: log lines, signed entries
// (checked by coordinator/receipt_policy.h, appended idempotently and
// acknowledged once durable), serving notices and results.
#include "coordinator/coordinator.h"
#include "coordinator/receipt_policy.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/sha256.h"

namespace cairn::coordinator {
namespace {

wire::Ack AckOf(uint64_t sequence, const Status& s) {
  return wire::Ack{sequence, static_cast<uint16_t>(s.code()), std::string(s.message()).substr(0, 4000)};
}

}  // namespace

void Coordinator::Ack(const std::string& worker, const wire::Ack& ack) {
  if (ack.sequence == 0) return;
  SendTo(worker, wire::MakeOutgoing(ack));
}

wire::HandlerResult Coordinator::OnTaskUpdate(const wire::Peer& peer, const wire::TaskUpdate& update) {
  const std::string worker = base_->IdentityOf(peer);
  if (!key_by_worker_.count(worker)) return NotFoundError("worker " + worker + " is not registered; say hello first");
  routing_by_worker_[worker] = peer.routing_id;
  const uint64_t seq = update.sequence;
  auto j = cluster_->Job(update.job_id);
  const std::string tag = "[" + worker.substr(0, 8) + "] ";
  if (const auto* receipt = std::get_if<wire::TaskReceipt>(&update.body)) {
    // Judged by the ledger alone (the placement it names), so signed work
    // is taken even for a job this coordinator's state has lost.
    if (auto ack = AcceptWorkerEntry(worker, update, receipt->entry)) {
      if (j.ok() && ack->code != 0 && ack->code != static_cast<uint16_t>(StatusCode::kUnavailable)) {
        Log(update.job_id, tag + "entry refused: " + ack->message);
      }
      Ack(worker, *ack);
    }
    return std::optional<wire::Outgoing>();
  }
  if (!j.ok()) {
    Ack(worker, AckOf(seq, j.status()));
    return std::optional<wire::Outgoing>();
  }
  if (const auto* line = std::get_if<wire::TaskLogLine>(&update.body)) {
    Log(update.job_id, tag + line->line);
    return std::optional<wire::Outgoing>();
  }
  const std::string& key = key_by_worker_[worker];
  const bool placed = view_.Placed(update.job_id, update.attempt, key);
  if (!placed) {
    Ack(worker, AckOf(seq, PermissionDeniedError("worker " + worker + " was not placed on attempt " +
                                                 std::to_string(update.attempt) + " of job " + update.job_id)));
    return std::optional<wire::Outgoing>();
  }
  if (const auto* serving = std::get_if<wire::TaskServing>(&update.body)) {
    const bool current = j->spec.kind == JobKind::kServe && j->attempt == update.attempt &&
                         std::find(j->workers.begin(), j->workers.end(), worker) != j->workers.end();
    if (current) {
      gateway_->AddReplica(ReplicaOf(*j, worker, serving->endpoint, serving->task));
      Log(update.job_id, tag + "serving " + j->spec.model + " (" + serving->task + ") at " + serving->endpoint);
    }
    Ack(worker, AckOf(seq, OkStatus()));  // a stale notice is done with, too
    return std::optional<wire::Outgoing>();
  }
  const auto& f = std::get<wire::TaskFinished>(update.body);
  const Status result = f.ok ? OkStatus() : Status(static_cast<StatusCode>(f.code), f.message);
  const bool counts = j->state == JobState::kRunning && j->attempt == update.attempt &&
                      std::find(j->workers.begin(), j->workers.end(), worker) != j->workers.end() &&
                      !j->finished.count(worker);
  if (counts) {
    if (j->spec.kind == JobKind::kServe) gateway_->RemoveWorker(worker);
    auto events = cluster_->TaskFinished(update.job_id, worker, update.attempt, result, f.message);
    if (!events.ok()) {
      Ack(worker, AckOf(seq, events.status()));
      return std::optional<wire::Outgoing>();
    }
    Log(update.job_id, tag + "task " + (f.ok ? "finished: " : "failed (" + std::string(StatusCodeName(result.code())) + "): ") +
                           f.message);
    Apply(std::move(*events));
    auto after = cluster_->Job(update.job_id);
    if (after.ok() && after->state != JobState::kRunning && after->state != JobState::kQueued &&
        after->state != JobState::kFailed) {  // a failure is logged with its reason (Apply)
      Log(update.job_id, std::string("job ") + JobStateName(after->state));
    }
    PersistDirty();
  }
  Ack(worker, AckOf(seq, OkStatus()));
  return std::optional<wire::Outgoing>();
}

std::optional<wire::Ack> Coordinator::AcceptWorkerEntry(const std::string& worker, const wire::TaskUpdate& update,
                                                        const std::string& entry) {
  const uint64_t seq = update.sequence;
  if (view_.Contains(entry)) {  // a resend of what the ledger holds: done
    acked_.fetch_add(1);
    duplicates_.fetch_add(1);
    return AckOf(seq, OkStatus());
  }
  const std::string hash = Sha256Bytes(entry);
  if (pending_hashes_.count(hash)) return std::nullopt;  // on its way; its commit answers
  auto decoded = DecodeWorkerEntry(entry);
  if (!decoded.ok()) {
    refused_.fetch_add(1);
    return AckOf(seq, decoded.status());
  }
  const WorkerEntry& e = *decoded;
  auto job = cluster_->Job(update.job_id);
  EntryContext ctx;
  ctx.sender_key = key_by_worker_[worker];
  ctx.update_job = update.job_id;
  ctx.update_attempt = update.attempt;
  ctx.placed = view_.Placed(update.job_id, update.attempt, ctx.sender_key);
  if (job.ok()) {
    ctx.spec_author = job->spec.output_author;
    ctx.spec_shares = job->spec.output_shares;
    ctx.spec_finetune_fee = job->spec.output_finetune_fee_micros;
    if (job->spec.kind == JobKind::kVerify) {
      const jobspec::VerifyTarget& t = job->spec.target;
      ctx.verify_task = true;
      ctx.target_job = t.job;
      ctx.target_attempt = t.attempt;
      ctx.target_round = t.round;
      ctx.target_worker = DecodeAccount(t.worker).value_or("");
    }
  }
  ctx.now_ms = options_.clock->NowUnixMillis();
  Status ok = CheckWorkerEntry(e, ctx);
  const bool receipt = e.type == ledger::schema::LedgerEntry::Body::STEP_RECEIPT;
  if (ok.ok() && receipt) {
    if (auto other = view_.Receipt(e.receipt_id()); other && *other != hash) {
      ok = AlreadyExistsError("a different receipt for round " + std::to_string(e.round) + " of attempt " +
                              std::to_string(e.attempt) + " of " + e.job_id + " by this worker is already in the ledger");
    } else if (pending_receipts_.count(e.receipt_id())) {
      return std::nullopt;  // another copy is being appended; the resend after it settles is answered
    }
  }
  if (!ok.ok()) {
    refused_.fetch_add(1);
    return AckOf(seq, ok);
  }
  PendingEntry pending{worker, update.job_id, hash, seq, std::nullopt, 0, 0, std::nullopt, ""};
  if (receipt) pending.receipt = e.receipt_id();
  if (e.type == ledger::schema::LedgerEntry::Body::CHECKPOINT_COMMITTED) {
    pending.checkpoint_round = e.round;
    pending.checkpoint_attempt = e.attempt;
  }
  if (e.type == ledger::schema::LedgerEntry::Body::VERDICT) {
    pending.verdict = ledger::ChallengeKey{e.job_id, e.attempt, e.round, e.worker};
    pending.verdict_result = e.result;
  }
  // A receipt goes in with the operator's acceptance of it, in one batch:
  // the acceptance's timestamp is when the coordinator saw the round end,
  // which bounds the duration paid (docs/ledger.md, "Payouts").
  std::vector<std::string> entries{entry};
  if (receipt) {
    auto acceptance = AcceptanceOf(e.receipt_id());
    if (!acceptance.ok()) return AckOf(seq, acceptance.status());
    entries.push_back(std::move(*acceptance));
  }
  Status queued = log_->AppendAsync(std::move(entries), [this, pending](StatusOr<uint64_t> index) {
    Status result = index.status();
    server_->Post([this, pending, result] { OnEntryCommitted(pending, result); });
  });
  if (!queued.ok()) {
    // Stopped (Unavailable: try again later) or refused by a payout rule.
    if (queued.code() != StatusCode::kUnavailable) refused_.fetch_add(1);
    return AckOf(seq, queued);
  }
  pending_hashes_.insert(hash);
  if (receipt) pending_receipts_.insert(e.receipt_id());
  return std::nullopt;
}

void Coordinator::OnEntryCommitted(const PendingEntry& p, const Status& result) {
  pending_hashes_.erase(p.hash);
  if (p.receipt) pending_receipts_.erase(*p.receipt);
  if (!result.ok()) {
    Ack(p.worker, AckOf(p.sequence, result));  // the log stopped: the worker keeps it for later
    return;
  }
  acked_.fetch_add(1);
  if (p.receipt) {
    cluster_->HoldsState(p.job_id, p.worker, std::get<1>(*p.receipt));
    CheckBudget(p.job_id);
  }
  if (p.checkpoint_round > 0) (void)cluster_->CheckpointCommitted(p.job_id, p.checkpoint_round, p.checkpoint_attempt);
  if (p.verdict) OnVerdictCommitted(*p.verdict, p.verdict_result, p.worker);
  PersistDirty();
  Ack(p.worker, AckOf(p.sequence, OkStatus()));
}

}  // namespace cairn::coordinator
