#include "coordinator/receipt_policy.h"

#include "runtime/base/encoding.h"

namespace cairn::coordinator {

StatusOr<WorkerEntry> DecodeWorkerEntry(std::string_view entry) {
  ASSIGN_OR_RETURN(ledger::EntryHeader header, ledger::ValidateEntry(entry));
  ASSIGN_OR_RETURN(ledger::EntryReader reader, ledger::EntryReader::Open(entry));
  auto body = reader.root().getBody();
  using B = ledger::schema::LedgerEntry::Body;
  WorkerEntry e;
  e.type = header.type;
  e.signer = header.actor;
  switch (body.which()) {
    case B::STEP_RECEIPT: {
      auto r = body.getStepReceipt();
      e.job_id = r.getJobId().cStr();
      e.attempt = r.getAttempt();
      e.round = r.getRound();
      return e;
    }
    case B::CHECKPOINT_COMMITTED: {
      auto c = body.getCheckpointCommitted();
      e.job_id = c.getJobId().cStr();
      e.attempt = c.getAttempt();
      e.round = c.getRound();
      e.blob = ledger::FromData(c.getBlobHash());
      if (e.round == 0) return InvalidArgumentError("checkpointCommitted.round must be at least 1");
      return e;
    }
    case B::MODEL_REGISTERED: {
      auto m = body.getModelRegistered();
      e.job_id = m.getJobId().cStr();
      e.author = HexEncode(ledger::FromData(m.getAuthor()));
      for (auto s : m.getShares()) e.shares[HexEncode(ledger::FromData(s.getAccount()))] += s.getBasisPoints();
      e.finetune_fee = m.getFinetuneFeeMicros();
      return e;
    }
    case B::VERDICT: {
      auto v = body.getVerdict();
      e.job_id = v.getJobId().cStr();
      e.attempt = v.getAttempt();
      e.round = v.getRound();
      e.worker = ledger::FromData(v.getWorker());
      e.result = v.getResult().cStr();
      e.timestamp_ms = header.timestamp_unix_millis;
      return e;
    }
    default:
      return InvalidArgumentError("a worker may not append a " + ledger::EntryTypeName(header.type));
  }
}

Status CheckWorkerEntry(const WorkerEntry& e, const EntryContext& c) {
  if (e.signer != c.sender_key) return PermissionDeniedError("the entry is not signed by the worker that sent it");
  const bool verdict = e.type == ledger::schema::LedgerEntry::Body::VERDICT;
  if (verdict != c.verify_task) {
    return PermissionDeniedError(verdict ? "only a verification task sends verdicts"
                                         : "a verification task sends verdicts, nothing else");
  }
  if (verdict) {
    if (!c.placed) return PermissionDeniedError("the worker was not assigned this verification task");
    if (e.job_id != c.target_job || e.attempt != c.target_attempt || e.round != c.target_round || e.worker != c.target_worker) {
      return InvalidArgumentError("the verdict names another round than the one its task replays");
    }
    if (e.timestamp_ms > c.now_ms + 5000) return InvalidArgumentError("the verdict is signed in the future");
    return OkStatus();
  }
  if (e.job_id != c.update_job) return InvalidArgumentError("the entry names job " + e.job_id + ", not " + c.update_job);
  const bool has_attempt = e.type != ledger::schema::LedgerEntry::Body::MODEL_REGISTERED;
  if (has_attempt && e.attempt != c.update_attempt) {
    return InvalidArgumentError("the entry names attempt " + std::to_string(e.attempt) + " of " + e.job_id +
                                ", but its task is attempt " + std::to_string(c.update_attempt));
  }
  if (!c.placed) {
    return PermissionDeniedError("the worker was not placed on attempt " + std::to_string(c.update_attempt) + " of job " +
                                 e.job_id);
  }
  if (e.type == ledger::schema::LedgerEntry::Body::MODEL_REGISTERED) {
    if (e.author != c.spec_author) {
      return PermissionDeniedError("modelRegistered.author differs from job " + e.job_id + "'s output.author");
    }
    if (e.shares != c.spec_shares) {
      return PermissionDeniedError("modelRegistered.shares differ from job " + e.job_id + "'s output.shares");
    }
    if (e.finetune_fee != c.spec_finetune_fee) {
      return PermissionDeniedError("modelRegistered.finetuneFeeMicros differs from job " + e.job_id +
                                   "'s output.terms.finetune_fee");
    }
  }
  return OkStatus();
}

}  // namespace cairn::coordinator
