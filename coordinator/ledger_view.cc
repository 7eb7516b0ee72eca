#include "coordinator/ledger_view.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "ledger/entry.h"
#include "runtime/crypto/sha256.h"

namespace cairn::coordinator {

LedgerView::LedgerView(MetricsRegistry* metrics) {
  if (metrics == nullptr) return;
  round_ = &metrics->GaugeFamily("cairn_train_round", "Latest round a worker reported for a training job.");
  loss_ = &metrics->GaugeFamily("cairn_train_loss", "Mean training loss in the latest receipt.");
  samples_ = &metrics->CounterFamily("cairn_train_samples_total", "Samples trained on, from step receipts.");
  receipts_total_ = &metrics->Counter("cairn_step_receipts_total", "Step receipts in the ledger.");
}

void LedgerView::Apply(uint64_t index, std::string_view entry) {
  auto reader = ledger::EntryReader::Open(entry);
  const std::string hash = Sha256Bytes(entry);
  MutexLock lock(&mu_);
  applied_ = index + 1;
  hashes_.insert(hash);
  if (!reader.ok()) return;
  auto root = reader->root();
  const std::string actor = ledger::FromData(root.getActor());
  auto body = root.getBody();
  using B = ledger::schema::LedgerEntry::Body;
  switch (body.which()) {
    case B::JOB_SUBMITTED:
      submitted_.insert(body.getJobSubmitted().getJobId().cStr());
      break;
    case B::JOB_PLACED: {
      auto p = body.getJobPlaced();
      for (auto w : p.getWorkers()) placed_.insert({p.getJobId().cStr(), p.getAttempt(), ledger::FromData(w.getWorker())});
      uint32_t& last = last_attempt_[p.getJobId().cStr()];
      last = std::max(last, p.getAttempt());
      break;
    }
    case B::VERIFIER_ASSIGNED: {
      // A verification task's placement: its verifier holds (task, attempt).
      auto v = body.getVerifierAssigned();
      placed_.insert({v.getTask().cStr(), v.getTaskAttempt(), ledger::FromData(v.getVerifier())});
      break;
    }
    case B::STEP_RECEIPT: {
      auto r = body.getStepReceipt();
      const std::string job = r.getJobId().cStr();
      receipts_.emplace(ReceiptId{job, r.getAttempt(), r.getRound(), actor}, hash);
      JobProgress& p = progress_[job];
      p.round = std::max<uint64_t>(p.round, r.getRound());
      p.loss = r.getLoss();
      uint64_t samples = 0;
      for (auto u : r.getConsumed()) samples += u.getSamples();
      p.samples += samples;
      ++p.receipts;
      if (round_ != nullptr) {
        round_->Add({{"job", job}}).Set(static_cast<double>(p.round));
        loss_->Add({{"job", job}}).Set(p.loss);
        samples_->Add({{"job", job}}).Increment(static_cast<double>(samples));
        receipts_total_->Increment();
      }
      break;
    }
    case B::CHECKPOINT_COMMITTED: {
      auto c = body.getCheckpointCommitted();
      CheckpointRef ref{c.getRound(), c.getAttempt(), ledger::FromData(c.getBlobHash())};
      // Of one round, the latest attempt's (a requeue redoes rounds after it).
      auto [r, first] = checkpoints_.emplace(std::make_pair(std::string(c.getJobId().cStr()), ref.round), ref);
      if (!first && ref.attempt >= r->second.attempt) r->second = ref;
      break;
    }
    case B::MODEL_REGISTERED: {
      auto m = body.getModelRegistered();
      ModelRef ref{m.getName().cStr(), ledger::FromData(m.getModelHash()), m.getJobId().cStr(),
                   m.getAuthor().size() == 32 ? ledger::FromData(m.getAuthor()) : actor, {},
                   ledger::FromData(m.getParentModel()), m.getLicense().cStr(), index};
      for (auto d : m.getDatasets()) ref.datasets.push_back(ledger::FromData(d));
      models_[ref.name] = std::move(ref);  // a later registration under a name replaces the earlier
      break;
    }
    default:
      break;
  }
}

uint64_t LedgerView::applied() const {
  MutexLock lock(&mu_);
  return applied_;
}

bool LedgerView::Contains(std::string_view entry) const {
  const std::string hash = Sha256Bytes(entry);
  MutexLock lock(&mu_);
  return hashes_.count(hash) > 0;
}

std::optional<std::string> LedgerView::Receipt(const ReceiptId& id) const {
  MutexLock lock(&mu_);
  auto it = receipts_.find(id);
  if (it == receipts_.end()) return std::nullopt;
  return it->second;
}

bool LedgerView::Submitted(const std::string& job_id) const {
  MutexLock lock(&mu_);
  return submitted_.count(job_id) > 0;
}

bool LedgerView::Placed(const std::string& job_id, uint32_t attempt, const std::string& worker_key) const {
  MutexLock lock(&mu_);
  return placed_.count({job_id, attempt, worker_key}) > 0;
}

uint32_t LedgerView::LastPlacedAttempt(const std::string& job_id) const {
  MutexLock lock(&mu_);
  auto it = last_attempt_.find(job_id);
  return it == last_attempt_.end() ? 0 : it->second;
}

std::optional<CheckpointRef> LedgerView::Checkpoint(const std::string& job_id, uint64_t round) const {
  MutexLock lock(&mu_);
  if (round > 0) {
    auto r = checkpoints_.find({job_id, round});
    if (r == checkpoints_.end()) return std::nullopt;
    return r->second;
  }
  // The furthest: the job's highest round (so a late copy from an older
  // attempt never moves the resume point back).
  auto it = checkpoints_.upper_bound({job_id, UINT64_MAX});
  if (it == checkpoints_.begin() || std::prev(it)->first.first != job_id) return std::nullopt;
  return std::prev(it)->second;
}

std::optional<CheckpointRef> LedgerView::CheckpointBefore(const std::string& job_id, uint64_t round) const {
  MutexLock lock(&mu_);
  auto it = checkpoints_.lower_bound({job_id, round});
  if (it == checkpoints_.begin() || std::prev(it)->first.first != job_id) return std::nullopt;
  return std::prev(it)->second;
}

std::optional<ModelRef> LedgerView::Model(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return std::nullopt;
  return it->second;
}

std::vector<ModelRef> LedgerView::Models() const {
  MutexLock lock(&mu_);
  std::vector<ModelRef> out;
  for (const auto& [name, m] : models_) out.push_back(m);
  return out;
}

std::map<std::string, JobProgress> LedgerView::Progress() const {
  MutexLock lock(&mu_);
  return progress_;
}

}  // namespace cairn::coordinator
