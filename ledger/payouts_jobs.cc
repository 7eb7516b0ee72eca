// The payout engine's training-job rules (docs/ledger.md, "Payouts"):
// escrow at submission and top-up, compute and data paid per accepted
// receipt, a fine-tune's fee once, and the refund at jobClosed.
#include <algorithm>

#include "ledger/payouts.h"
#include "ledger/payouts_internal.h"

namespace cairn::ledger {

Status PayoutEngine::ApplySubmitted(const EntryHeader& h, schema::JobSubmitted::Reader b) {
  std::string id(b.getJobId().cStr());
  if (jobs_.count(id)) return AlreadyExistsError("job " + id + " already exists");
  Job job;
  for (auto d : b.getDatasets()) {
    std::string ds = FromData(d);
    if (!datasets_.count(ds)) return FailedPreconditionError("job uses unregistered dataset " + Short(ds));
    job.datasets.push_back(ds);
  }
  job.parent = FromData(b.getParentModel());
  if (!job.parent.empty()) {
    auto parent = models_.find(job.parent);
    if (parent == models_.end()) return FailedPreconditionError("job fine-tunes unregistered model " + Short(job.parent));
    job.fee_due = parent->second.finetune_fee > 0;
    if (b.getBudgetMicros() < parent->second.finetune_fee) {
      return FailedPreconditionError("budget " + std::to_string(b.getBudgetMicros()) +
                                     " does not cover the parent model's fine-tuning fee of " +
                                     std::to_string(parent->second.finetune_fee) + " micro-credits");
    }
  }
  const uint64_t budget = b.getBudgetMicros();
  RETURN_IF_ERROR(Spend(h.actor, budget, "the job's budget"));
  job.funds.submitter = h.actor;
  job.funds.budget = budget;
  job.policy = VerifyPolicy{b.getReplayPpm(), b.getProbationRounds(), b.getHoldRounds()};
  if (job.policy.replay_ppm > kMillion) {
    return InvalidArgumentError("jobSubmitted.replayPpm is " + std::to_string(job.policy.replay_ppm) + ", above 1,000,000");
  }
  job.max_price_per_hour = b.getMaxPricePerHourMicros();
  jobs_[id] = std::move(job);
  return OkStatus();
}

Status PayoutEngine::ApplyPlaced(const EntryHeader& h, schema::JobPlaced::Reader b) {
  RETURN_IF_ERROR(RequireOperator(h.actor, "jobPlaced"));
  auto it = jobs_.find(b.getJobId().cStr());
  if (it == jobs_.end()) return FailedPreconditionError(std::string("job ") + b.getJobId().cStr() + " was never submitted");
  Job& job = it->second;
  if (job.funds.closed) return FailedPreconditionError(std::string("job ") + b.getJobId().cStr() + " is closed");
  for (auto w : b.getWorkers()) {
    if (job.removed.count(FromData(w.getWorker()))) {
      return PermissionDeniedError("worker " + Short(FromData(w.getWorker())) + " was removed from job " +
                                   b.getJobId().cStr() + " by a failing verdict");
    }
    if (job.max_price_per_hour > 0 && w.getPricePerHourMicros() > job.max_price_per_hour) {
      return FailedPreconditionError("worker " + Short(FromData(w.getWorker())) + " is placed at " +
                                     std::to_string(w.getPricePerHourMicros()) +
                                     " micro-credits an hour, above the submitter's cap of " +
                                     std::to_string(job.max_price_per_hour));
    }
  }
  // A new attempt ends the time of every earlier attempt's seats: a worker
  // that moved on (or is gone) is not paid for the hours after it.
  for (auto& [seat, placed] : job.seats) {
    if (seat.first < b.getAttempt()) placed.until_ms = std::min(placed.until_ms, h.timestamp_unix_millis);
  }
  for (auto w : b.getWorkers()) {
    // A seat placed again (a placement re-recorded after a restart) takes the
    // new price, but its observed time never restarts before the last
    // acceptance: no interval is paid twice, whatever the timestamps say.
    auto [seat, fresh] = job.seats.try_emplace({b.getAttempt(), FromData(w.getWorker())},
                                               Placed{w.getPricePerHourMicros(), h.timestamp_unix_millis});
    if (!fresh) {
      seat->second.price_per_hour = w.getPricePerHourMicros();
      seat->second.since_ms = std::max(seat->second.since_ms, h.timestamp_unix_millis);
    }
  }
  return OkStatus();
}

Status PayoutEngine::ApplyReceipt(const EntryHeader& h, schema::StepReceipt::Reader b) {
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return FailedPreconditionError("receipt for unknown job " + id);
  Job& job = it->second;
  if (job.funds.closed) return FailedPreconditionError("receipt for job " + id + ", which is closed");
  if (job.removed.count(h.actor)) {
    return PermissionDeniedError("worker " + Short(h.actor) + " was removed from job " + id + " by a failing verdict");
  }
  if (!job.seats.count({b.getAttempt(), h.actor})) {
    return PermissionDeniedError("worker " + Short(h.actor) + " was not placed on attempt " +
                                 std::to_string(b.getAttempt()) + " of job " + id);
  }
  auto key = std::make_tuple(b.getAttempt(), b.getRound(), h.actor);
  if (job.pending.count(key) || job.accepted.count(key)) {
    return AlreadyExistsError("worker " + Short(h.actor) + " already has a receipt for round " +
                              std::to_string(b.getRound()) + " of attempt " + std::to_string(b.getAttempt()) + " of " + id);
  }
  Pending p;
  p.signed_ms = MillisBetween(b.getStartUnixMillis(), b.getEndUnixMillis());
  for (auto use : b.getConsumed()) {
    std::string d = FromData(use.getDatasetId());
    if (std::find(job.datasets.begin(), job.datasets.end(), d) == job.datasets.end()) {
      return PermissionDeniedError("receipt consumes dataset " + Short(d) + ", which job " + id + " did not submit");
    }
    p.samples[d] += use.getSamples();
  }
  job.pending[key] = std::move(p);
  return OkStatus();
}

Status PayoutEngine::ApplyAccepted(uint64_t index, const EntryHeader& h, schema::ReceiptAccepted::Reader b) {
  RETURN_IF_ERROR(RequireOperator(h.actor, "receiptAccepted"));
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return FailedPreconditionError("acceptance for unknown job " + id);
  Job& job = it->second;
  if (job.funds.closed) return FailedPreconditionError("acceptance for job " + id + ", which is closed");
  const std::string worker = FromData(b.getWorker());
  auto key = std::make_tuple(b.getAttempt(), b.getRound(), worker);
  auto pending = job.pending.find(key);
  if (pending == job.pending.end()) {
    return FailedPreconditionError("no receipt awaits acceptance for round " + std::to_string(b.getRound()) +
                                   " of attempt " + std::to_string(b.getAttempt()) + " of " + id + " by " + Short(worker));
  }
  Placed& seat = job.seats.at({b.getAttempt(), worker});
  JobFunds& f = job.funds;
  uint64_t round_paid = 0;
  if (job.fee_due) {  // the parent's fee, once, before anything else (the budget covers it)
    const Model& parent = models_.at(job.parent);
    uint64_t fee = std::min(f.escrow(), parent.finetune_fee);
    Pay(index, parent.author, fee, "finetune fee", id);
    f.fee += fee;
    job.fee_due = false;
  }
  const uint64_t observed = MillisBetween(seat.since_ms, std::min(h.timestamp_unix_millis, seat.until_ms));
  const uint64_t millis = std::min(pending->second.signed_ms, observed);
  // With verification on, the round's pay is held (ledger/payouts_verify.cc).
  const bool hold = job.policy.on();
  WorkerRecord& record = records_[worker];
  Held held;
  held.rounds_before = record.rounds++;
  uint64_t compute = std::min(f.escrow(), MulDiv(millis, seat.price_per_hour, 3'600'000));
  f.compute += compute;
  round_paid += compute;
  if (hold) {
    held.compute = compute;
  } else {
    Pay(index, worker, compute, "compute", id);
  }
  for (const auto& [d, n] : pending->second.samples) {
    job.samples_by_dataset[d] += n;
    uint64_t owed = std::min(f.escrow(), MulDiv(n, datasets_.at(d).price_per_1k, 1000));
    f.data += owed;
    round_paid += owed;
    if (hold) {
      held.data[datasets_.at(d).owner] += owed;
    } else {
      Pay(index, datasets_.at(d).owner, owed, "data", id);
    }
  }
  if (hold) {
    f.held += held.compute;
    held_by_account_[worker] += held.compute;
    for (const auto& [owner, micros] : held.data) {
      f.held += micros;
      held_by_account_[owner] += micros;
    }
    job.held[key] = std::move(held);
  }
  seat.since_ms = std::max(seat.since_ms, h.timestamp_unix_millis);
  uint64_t& cost = job.round_cost[{b.getAttempt(), b.getRound()}];
  cost += round_paid;
  f.max_round = std::max(f.max_round, cost);
  job.pending.erase(pending);
  job.accepted.insert(key);
  return OkStatus();
}

Status PayoutEngine::ApplyToppedUp(const EntryHeader& h, schema::JobToppedUp::Reader b) {
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return FailedPreconditionError("top-up of unknown job " + id);
  Job& job = it->second;
  if (h.actor != job.funds.submitter) return PermissionDeniedError("only job " + id + "'s submitter may add to its budget");
  if (job.funds.closed && job.funds.outcome != "budget exhausted") {
    return FailedPreconditionError("job " + id + " is closed (" + job.funds.outcome + "); only a job whose budget ran out takes a top-up");
  }
  RETURN_IF_ERROR(Spend(h.actor, b.getAmountMicros(), "the top-up"));
  job.funds.budget += b.getAmountMicros();
  job.funds.closed = false;  // reopened: it resumes from its checkpoint
  return OkStatus();
}

Status PayoutEngine::ApplyClosed(uint64_t index, const EntryHeader& h, schema::JobClosed::Reader b) {
  RETURN_IF_ERROR(RequireOperator(h.actor, "jobClosed"));
  const std::string id(b.getJobId().cStr());
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return FailedPreconditionError("closing unknown job " + id);
  Job& job = it->second;
  JobFunds& f = job.funds;
  if (f.closed) return FailedPreconditionError("job " + id + " is already closed");
  auto mismatch = [&](const char* field, uint64_t says, uint64_t is) {
    return FailedPreconditionError(std::string("jobClosed.") + field + " of " + id + " says " + std::to_string(says) +
                                   ", the ledger says " + std::to_string(is));
  };
  if (b.getBudgetMicros() != f.budget) return mismatch("budgetMicros", b.getBudgetMicros(), f.budget);
  if (b.getComputeMicros() != f.compute) return mismatch("computeMicros", b.getComputeMicros(), f.compute);
  if (b.getDataMicros() != f.data) return mismatch("dataMicros", b.getDataMicros(), f.data);
  if (b.getFeeMicros() != f.fee) return mismatch("feeMicros", b.getFeeMicros(), f.fee);
  if (b.getRefundMicros() != f.escrow()) return mismatch("refundMicros", b.getRefundMicros(), f.escrow());
  if (b.getVerifyMicros() != f.verify) return mismatch("verifyMicros", b.getVerifyMicros(), f.verify);
  if (b.getForfeitMicros() != f.forfeited) return mismatch("forfeitMicros", b.getForfeitMicros(), f.forfeited);
  // Whatever is still held is the workers' (no failing verdict came); open
  // challenges close unanswered.
  ReleaseDue(index, id, job, /*all=*/true);
  const uint64_t refund = f.escrow();
  Pay(index, f.submitter, refund, "refund", id);
  f.refunded += refund;
  f.closed = true;
  f.outcome = b.getOutcome().cStr();
  for (auto it = open_.lower_bound(ChallengeKey{id, 0, 0, ""}); it != open_.end() && it->job == id;) it = open_.erase(it);
  job.pending.clear();  // receipts never accepted are not paid
  job.seats.clear();    // its placements end with it: a reopened job is placed anew
  return OkStatus();
}

}  // namespace cairn::ledger
