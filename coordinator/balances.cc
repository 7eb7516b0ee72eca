#include "coordinator/balances.h"

#include "ledger/log_reader.h"
#include "ledger/verify.h"

namespace cairn::coordinator {

Status Balances::Load(ledger::Log& log, const std::string& dir) {
  auto reader = ledger::NewStoreReader(&log.store(), dir);
  auto report = ledger::VerifyLog(*reader, log.verifier());
  if (!report.ok()) return Status(report.status().code(), "the ledger does not verify: " + report.status().message());
  MutexLock l(&mu_);
  engine_ = std::move(report->payouts);
  next_index_ = report->checkpoint.size;
  return OkStatus();
}

Status Balances::Admit(std::string_view entry) {
  MutexLock l(&mu_);
  if (!engine_) return OkStatus();
  RETURN_IF_ERROR(engine_->Apply(next_index_, entry));
  ++next_index_;
  return OkStatus();
}

int64_t Balances::Available(const std::string& account) const {
  MutexLock l(&mu_);
  return engine_ ? engine_->Available(account) : 0;
}

std::vector<ledger::Earning> Balances::Earnings() const {
  MutexLock l(&mu_);
  return engine_ ? engine_->earnings() : std::vector<ledger::Earning>{};
}

}  // namespace cairn::coordinator
