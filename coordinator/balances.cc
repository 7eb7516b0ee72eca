#include "coordinator/balances.h"

#include "ledger/log_reader.h"
#include "ledger/verify.h"
#include "runtime/base/log.h"

namespace cairn::coordinator {

Status Balances::Load(ledger::Log& log, const std::string& where) {
  auto reader = ledger::NewStoreReader(&log.store(), where);
  auto report = ledger::VerifyLog(*reader, log.verifier());
  if (!report.ok()) return Status(report.status().code(), "the ledger does not verify: " + report.status().message());
  MutexLock l(&mu_);
  admitted_ = std::make_unique<ledger::PayoutEngine>(*report->payouts);
  committed_ = std::move(report->payouts);
  next_admit_ = report->checkpoint.size;
  return OkStatus();
}

Status Balances::Admit(std::string_view entry) {
  MutexLock l(&mu_);
  if (!admitted_) return OkStatus();
  RETURN_IF_ERROR(admitted_->Apply(next_admit_, entry));
  ++next_admit_;
  return OkStatus();
}

void Balances::Commit(uint64_t index, std::string_view entry) {
  MutexLock l(&mu_);
  if (!committed_) return;
  Status s = committed_->Apply(index, entry);
  // The admitting engine accepted it at this position; disagreement is a bug.
  if (!s.ok()) CAIRN_LOG_ERROR("balances: committed entry {} does not apply: {}", index, s.ToString());
}

int64_t Balances::Available(const std::string& account) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->Available(account) : 0;
}

std::vector<ledger::Earning> Balances::Earnings() const {
  MutexLock l(&mu_);
  return committed_ ? committed_->earnings() : std::vector<ledger::Earning>{};
}

StatusOr<ledger::JobFunds> Balances::Funds(const std::string& job_id) const {
  MutexLock l(&mu_);
  if (!committed_) return NotFoundError("no ledger loaded");
  return committed_->Funds(job_id);
}

StatusOr<ledger::JobFunds> Balances::AdmittedFunds(const std::string& job_id) const {
  MutexLock l(&mu_);
  if (!admitted_) return NotFoundError("no ledger loaded");
  return admitted_->Funds(job_id);
}

uint64_t Balances::EscrowOf(const std::string& account) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->EscrowOf(account) : 0;
}

uint64_t Balances::FinetuneFee(const std::string& model_hash) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->FinetuneFee(model_hash) : 0;
}

std::map<ledger::ChallengeKey, ledger::ChallengeState> Balances::Challenges() const {
  MutexLock l(&mu_);
  return committed_ ? committed_->challenges() : std::map<ledger::ChallengeKey, ledger::ChallengeState>{};
}

std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> Balances::OpenChallenges() const {
  MutexLock l(&mu_);
  return committed_ ? committed_->OpenChallenges() : std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>>{};
}

ledger::WorkerRecord Balances::RecordOf(const std::string& worker_key) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->RecordOf(worker_key) : ledger::WorkerRecord{};
}

bool Balances::Removed(const std::string& job_id, const std::string& worker_key) const {
  MutexLock l(&mu_);
  return committed_ && committed_->Removed(job_id, worker_key);
}

ledger::VerifyPolicy Balances::Policy(const std::string& job_id) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->PolicyOf(job_id) : ledger::VerifyPolicy{};
}

std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>> Balances::Unaudited() const {
  MutexLock l(&mu_);
  return committed_ ? committed_->Unaudited() : std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>>{};
}

uint64_t Balances::HeldFor(const std::string& account) const {
  MutexLock l(&mu_);
  return committed_ ? committed_->HeldFor(account) : 0;
}

std::unique_ptr<ledger::PayoutEngine> Balances::Snapshot() const {
  MutexLock l(&mu_);
  return committed_ ? std::make_unique<ledger::PayoutEngine>(*committed_) : nullptr;
}

}  // namespace cairn::coordinator
