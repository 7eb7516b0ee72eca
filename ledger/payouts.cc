#include "ledger/payouts.h"

#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

using Body = schema::LedgerEntry::Body;

std::string Short(const std::string& key) { return HexEncode(key.substr(0, 8)); }

// floor(a * b / c) without overflow (a 128-bit intermediate; results past
// 2^64 saturate, far beyond any real amount).
__extension__ typedef unsigned __int128 U128;
uint64_t MulDiv(uint64_t a, uint64_t b, uint64_t c) {
  U128 r = static_cast<U128>(a) * b / c;
  return r > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(r);
}

}  // namespace

int64_t PayoutEngine::Available(const std::string& account) const {
  auto it = available_.find(account);
  return it == available_.end() ? 0 : it->second;
}

uint64_t PayoutEngine::total_escrow() const {
  uint64_t total = 0;
  for (const auto& [id, job] : jobs_) total += job.budget - job.paid;
  return total;
}

Status PayoutEngine::CheckInvariants() const {
  int64_t sum = 0;
  for (const auto& [account, micros] : available_) {
    if (micros < 0) return InternalError("balance of " + Short(account) + " is negative");
    sum += micros;
  }
  for (const auto& [id, job] : jobs_) {
    if (job.paid > job.budget) return InternalError("job " + id + " paid more than its budget");
  }
  if (static_cast<uint64_t>(sum) + total_escrow() + settled_ != credited_) {
    return InternalError("credits not conserved: available " + std::to_string(sum) + " + escrow " +
                         std::to_string(total_escrow()) + " + settled " + std::to_string(settled_) +
                         " != credited " + std::to_string(credited_));
  }
  return OkStatus();
}

Status PayoutEngine::RequireOperator(const std::string& actor, const char* what) const {
  if (actor != operator_) return PermissionDeniedError(std::string(what) + " must be signed by the log operator");
  return OkStatus();
}

void PayoutEngine::Pay(uint64_t index, const std::string& account, uint64_t micros, const char* reason) {
  if (micros == 0) return;
  available_[account] += static_cast<int64_t>(micros);
  earnings_.push_back(Earning{index, account, micros, reason});
}

Status PayoutEngine::Apply(uint64_t index, std::string_view entry) {
  if (any_ && index <= last_index_) {
    return InvalidArgumentError("entries must be applied in log order (" + std::to_string(index) + " after " +
                                std::to_string(last_index_) + ")");
  }
  ASSIGN_OR_RETURN(EntryReader reader, EntryReader::Open(entry));
  Status s;
  try {
    auto root = reader.root();
    s = ApplyEntry(index, FromData(root.getActor()), root.getBody());
  } catch (const kj::Exception& e) {
    s = InvalidArgumentError(std::string("malformed entry: ") + e.getDescription().cStr());
  }
  if (!s.ok()) return s.WithContext("entry " + std::to_string(index));
  last_index_ = index;
  any_ = true;
  return OkStatus();
}

Status PayoutEngine::ApplyEntry(uint64_t index, const std::string& actor, Body::Reader body) {
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

    case Body::JOB_SUBMITTED: {
      auto b = body.getJobSubmitted();
      std::string id(b.getJobId().cStr());
      if (jobs_.count(id)) return AlreadyExistsError("job " + id + " already exists");
      for (auto d : b.getDatasets()) {
        if (!datasets_.count(FromData(d))) return FailedPreconditionError("job uses unregistered dataset " + Short(FromData(d)));
      }
      uint64_t budget = b.getBudgetMicros();
      if (Available(actor) < 0 || static_cast<uint64_t>(Available(actor)) < budget) {
        return FailedPreconditionError("submitter " + Short(actor) + " has " + std::to_string(Available(actor)) +
                                       " micro-credits, budget needs " + std::to_string(budget));
      }
      available_[actor] -= static_cast<int64_t>(budget);
      jobs_[id] = Job{actor, budget, 0, {}, {}};
      return OkStatus();
    }

    case Body::JOB_PLACED: {
      RETURN_IF_ERROR(RequireOperator(actor, "jobPlaced"));
      auto b = body.getJobPlaced();
      auto it = jobs_.find(b.getJobId().cStr());
      if (it == jobs_.end()) return FailedPreconditionError(std::string("job ") + b.getJobId().cStr() + " was never submitted");
      for (auto w : b.getWorkers()) it->second.price_per_hour[FromData(w.getWorker())] = w.getPricePerHourMicros();
      return OkStatus();
    }

    case Body::STEP_RECEIPT: {
      auto b = body.getStepReceipt();
      auto it = jobs_.find(b.getJobId().cStr());
      if (it == jobs_.end()) return FailedPreconditionError(std::string("receipt for unknown job ") + b.getJobId().cStr());
      Job& job = it->second;
      auto price = job.price_per_hour.find(actor);
      if (price == job.price_per_hour.end()) {
        return PermissionDeniedError("worker " + Short(actor) + " was not placed on job " + b.getJobId().cStr());
      }
      std::map<std::string, uint64_t> samples;
      for (auto use : b.getConsumed()) {
        std::string d = FromData(use.getDatasetId());
        if (!datasets_.count(d)) return FailedPreconditionError("receipt consumes unregistered dataset " + Short(d));
        samples[d] += use.getSamples();
      }
      uint64_t millis = static_cast<uint64_t>(b.getEndUnixMillis() - b.getStartUnixMillis());
      uint64_t remaining = job.budget - job.paid;
      uint64_t compute = std::min(remaining, MulDiv(millis, price->second, 3'600'000));
      Pay(index, actor, compute, "compute");
      remaining -= compute;
      for (const auto& [d, n] : samples) {
        job.samples_by_dataset[d] += n;
        uint64_t owed = std::min(remaining, MulDiv(n, datasets_[d].price_per_1k, 1000));
        Pay(index, datasets_[d].owner, owed, "data");
        remaining -= owed;
      }
      job.paid = job.budget - remaining;
      return OkStatus();
    }

    case Body::MODEL_REGISTERED: {
      auto b = body.getModelRegistered();
      std::string hash = FromData(b.getModelHash());
      if (models_.count(hash)) return AlreadyExistsError("model " + Short(hash) + " is already registered");
      // The author is the account the entry names (the job's submitter),
      // else its signer.
      const std::string author = FromData(b.getAuthor());
      Model m{author.empty() ? actor : author, FromData(b.getParentModel()), b.getJobId().cStr(), {}};
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
      if (Available(consumer) < 0 || static_cast<uint64_t>(Available(consumer)) < charge) {
        return FailedPreconditionError("consumer " + Short(consumer) + " has " + std::to_string(Available(consumer)) +
                                       " micro-credits, usage costs " + std::to_string(charge));
      }
      available_[consumer] -= static_cast<int64_t>(charge);
      Pay(index, FromData(b.getWorker()), b.getWorkerMicros(), "serving");
      SplitRevenue(index, model, charge - b.getWorkerMicros(), 0);
      return OkStatus();
    }

    case Body::SETTLEMENT: {
      RETURN_IF_ERROR(RequireOperator(actor, "settlement"));
      auto b = body.getSettlement();
      std::string account = FromData(b.getAccount());
      uint64_t amount = b.getAmountMicros();
      if (Available(account) < 0 || static_cast<uint64_t>(Available(account)) < amount) {
        return FailedPreconditionError("account " + Short(account) + " has " + std::to_string(Available(account)) +
                                       " micro-credits, settlement is " + std::to_string(amount));
      }
      available_[account] -= static_cast<int64_t>(amount);
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
