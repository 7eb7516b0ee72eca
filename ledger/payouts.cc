#include "ledger/payouts.h"

#include "ledger/payouts_internal.h"
#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

using Body = schema::LedgerEntry::Body;

}  // namespace

int64_t PayoutEngine::Available(const std::string& account) const {
  auto it = available_.find(account);
  return it == available_.end() ? 0 : it->second;
}

uint64_t PayoutEngine::total_escrow() const {
  uint64_t total = 0;
  for (const auto& [id, job] : jobs_) total += job.funds.escrow();
  return total;
}

uint64_t PayoutEngine::EscrowOf(const std::string& account) const {
  uint64_t total = 0;
  for (const auto& [id, job] : jobs_) {
    if (job.funds.submitter == account) total += job.funds.escrow();
  }
  return total;
}

StatusOr<JobFunds> PayoutEngine::Funds(const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("job " + job_id + " is not in the ledger");
  return it->second.funds;
}

uint64_t PayoutEngine::FinetuneFee(const std::string& model_hash) const {
  auto it = models_.find(model_hash);
  return it == models_.end() ? 0 : it->second.finetune_fee;
}

Status PayoutEngine::CheckInvariants() const {
  int64_t sum = 0;
  for (const auto& [account, micros] : available_) {
    if (micros < 0) return InternalError("balance of " + Short(account) + " is negative");
    sum += micros;
  }
  for (const auto& [id, job] : jobs_) {
    if (job.funds.paid() + job.funds.refunded > job.funds.budget) {
      return InternalError("job " + id + " paid more than its budget");
    }
  }
  if (static_cast<uint64_t>(sum) + total_escrow() + total_held() + settled_ != credited_) {
    return InternalError("credits not conserved: available " + std::to_string(sum) + " + escrow " +
                         std::to_string(total_escrow()) + " + held " + std::to_string(total_held()) + " + settled " +
                         std::to_string(settled_) + " != credited " + std::to_string(credited_));
  }
  uint64_t held = 0;
  for (const auto& [account, micros] : held_by_account_) held += micros;
  if (held != total_held()) return InternalError("held pay by account does not add up to the jobs' held pay");
  return OkStatus();
}

Status PayoutEngine::RequireOperator(const std::string& actor, const char* what) const {
  if (actor != operator_) return PermissionDeniedError(std::string(what) + " must be signed by the log operator");
  return OkStatus();
}

void PayoutEngine::Pay(uint64_t index, const std::string& account, uint64_t micros, const char* reason,
                       const std::string& job) {
  if (micros == 0) return;
  available_[account] += static_cast<int64_t>(micros);
  earnings_.push_back(Earning{index, account, micros, reason, job});
}

Status PayoutEngine::Spend(const std::string& account, uint64_t micros, const std::string& what) {
  if (Available(account) < 0 || static_cast<uint64_t>(Available(account)) < micros) {
    return FailedPreconditionError(Short(account) + " has " + std::to_string(Available(account)) +
                                   " micro-credits available, " + what + " needs " + std::to_string(micros));
  }
  available_[account] -= static_cast<int64_t>(micros);
  return OkStatus();
}

Status PayoutEngine::Apply(uint64_t index, std::string_view entry) {
  if (any_ && index <= last_index_) {
    return InvalidArgumentError("entries must be applied in log order (" + std::to_string(index) + " after " +
                                std::to_string(last_index_) + ")");
  }
  ASSIGN_OR_RETURN(EntryReader reader, EntryReader::Open(entry));
  // The tree head after this entry includes it (roundAudited draws from it);
  // a refused entry is taken out again.
  const CompactRange before = tree_;
  if (index != tree_.size()) tree_valid_ = false;
  tree_.Append(LeafHash(entry));
  Status s;
  try {
    auto root = reader.root();
    EntryHeader h{root.getBody().which(), root.getTimestampUnixMillis(), FromData(root.getActor())};
    s = ApplyEntry(index, h, root.getBody());
  } catch (const kj::Exception& e) {
    s = InvalidArgumentError(std::string("malformed entry: ") + e.getDescription().cStr());
  }
  if (!s.ok()) {
    tree_ = before;
    return s.WithContext("entry " + std::to_string(index));
  }
  last_index_ = index;
  any_ = true;
  return OkStatus();
}

Status PayoutEngine::ApplyEntry(uint64_t index, const EntryHeader& h, Body::Reader body) {
  const std::string& actor = h.actor;
  switch (body.which()) {
    case Body::TEST:
    case Body::CHECKPOINT_COMMITTED:
      return OkStatus();

    case Body::ACCOUNT_CREDITED: {
      RETURN_IF_ERROR(RequireOperator(actor, "accountCredited"));
      auto b = body.getAccountCredited();
      uint64_t amount = b.getAmountMicros();
      if (amount > static_cast<uint64_t>(INT64_MAX) - credited_) return OutOfRangeError("credit overflows");
      available_[FromData(b.getAccount())] += static_cast<int64_t>(amount);
      credited_ += amount;
      return OkStatus();
    }

    case Body::DATASET_REGISTERED: {
      auto b = body.getDatasetRegistered();
      std::string id = FromData(b.getDatasetId());
      if (datasets_.count(id)) return AlreadyExistsError("dataset " + Short(id) + " is already registered");
      datasets_[id] = Dataset{actor, b.getPricePer1kSamplesMicros()};
      return OkStatus();
    }

    case Body::JOB_SUBMITTED:
      return ApplySubmitted(h, body.getJobSubmitted());
    case Body::JOB_PLACED:
      return ApplyPlaced(h, body.getJobPlaced());
    case Body::STEP_RECEIPT:
      return ApplyReceipt(h, body.getStepReceipt());
    case Body::RECEIPT_ACCEPTED:
      return ApplyAccepted(index, h, body.getReceiptAccepted());
    case Body::JOB_TOPPED_UP:
      return ApplyToppedUp(h, body.getJobToppedUp());
    case Body::JOB_CLOSED:
      return ApplyClosed(index, h, body.getJobClosed());
    case Body::ROUND_AUDITED:
      return ApplyAudited(index, h, body.getRoundAudited());
    case Body::VERIFIER_ASSIGNED:
      return ApplyVerifierAssigned(h, body.getVerifierAssigned());
    case Body::VERDICT:
      return ApplyVerdict(index, h, body.getVerdict());

    case Body::MODEL_REGISTERED: {
      auto b = body.getModelRegistered();
      std::string hash = FromData(b.getModelHash());
      if (models_.count(hash)) return AlreadyExistsError("model " + Short(hash) + " is already registered");
      // The author is the account the entry names (the job's submitter),
      // else its signer.
      const std::string author = FromData(b.getAuthor());
      Model m{author.empty() ? actor : author, FromData(b.getParentModel()), b.getJobId().cStr(), {},
              b.getFinetuneFeeMicros()};
      if (!m.parent.empty() && !models_.count(m.parent)) {
        return FailedPreconditionError("parent model " + Short(m.parent) + " is not registered");
      }
      if (!m.job.empty() && !jobs_.count(m.job)) return FailedPreconditionError("model names unknown job " + m.job);
      for (auto s : b.getShares()) m.shares.push_back({FromData(s.getAccount()), s.getBasisPoints()});
      models_[hash] = std::move(m);
      return OkStatus();
    }

    case Body::INFERENCE_USAGE: {
      RETURN_IF_ERROR(RequireOperator(actor, "inferenceUsage"));
      auto b = body.getInferenceUsage();
      std::string model = FromData(b.getModel());
      if (!models_.count(model)) return FailedPreconditionError("usage of unregistered model " + Short(model));
      std::string consumer = FromData(b.getConsumer());
      uint64_t charge = b.getChargeMicros();
      RETURN_IF_ERROR(Spend(consumer, charge, "the usage"));
      Pay(index, FromData(b.getWorker()), b.getWorkerMicros(), "serving");
      SplitRevenue(index, model, charge - b.getWorkerMicros(), 0);
      return OkStatus();
    }

    case Body::SETTLEMENT: {
      RETURN_IF_ERROR(RequireOperator(actor, "settlement"));
      auto b = body.getSettlement();
      std::string account = FromData(b.getAccount());
      uint64_t amount = b.getAmountMicros();
      RETURN_IF_ERROR(Spend(account, amount, "the settlement"));
      settled_ += amount;
      return OkStatus();
    }
  }
  return InvalidArgumentError("unknown entry type");
}

void PayoutEngine::SplitRevenue(uint64_t index, const std::string& model_hash, uint64_t micros, int depth) {
  const Model& m = models_.at(model_hash);
  uint64_t left = micros;
  if (!m.shares.empty()) {
    for (const auto& [account, bps] : m.shares) {
      uint64_t part = MulDiv(micros, bps, 10000);
      Pay(index, account, part, "royalty");
      left -= part;
    }
    Pay(index, m.author, left, "royalty");  // rounding remainder
    return;
  }
  auto job = m.job.empty() ? jobs_.end() : jobs_.find(m.job);
  if (job != jobs_.end() && !job->second.samples_by_dataset.empty()) {
    uint64_t pool = MulDiv(micros, kDataShareBps, 10000);
    uint64_t total_samples = 0;
    for (const auto& [d, n] : job->second.samples_by_dataset) total_samples += n;
    for (const auto& [d, n] : job->second.samples_by_dataset) {
      uint64_t part = total_samples == 0 ? 0 : MulDiv(pool, n, total_samples);
      Pay(index, datasets_.at(d).owner, part, "data royalty");
      left -= part;
    }
  }
  if (!m.parent.empty() && depth < kMaxLineageDepth) {
    uint64_t pool = MulDiv(micros, kParentShareBps, 10000);
    SplitRevenue(index, m.parent, pool, depth + 1);
    left -= pool;
  }
  Pay(index, m.author, left, "royalty");
}

}  // namespace cairn::ledger
