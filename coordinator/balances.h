// Balances: the coordinator's payout engines (ledger/payouts.h), replayed
// from the verified log at start.
//  - Admit() is the log's admission policy: it applies each entry, in queue
//    (= log) order, to an engine that runs ahead of the store, and refuses
//    what would break a payout rule (spending credits one does not have,
//    usage of an unknown model, a receipt from a worker never placed), so
//    `cairn ledger verify` never finds such an entry.
//  - Commit() applies each entry once the log has made it durable (the
//    log's on_commit hook), to the engine everything reads: balances shown
//    and spent never include an entry a failed write lost. After a store
//    failure the admitting engine is ahead for good, but the log accepts
//    nothing more (fail-stop) and a restart replays what was stored.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_BALANCES_H_
#define CAIRN_COORDINATOR_BALANCES_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/log.h"
#include "ledger/payouts.h"
#include "runtime/base/mutex.h"

namespace cairn::coordinator {

class Balances {
 public:
  // Verifies the log in `log`'s store and replays it into both engines.
  // Until then Admit lets everything through (nothing appends before the
  // coordinator has started).
  Status Load(ledger::Log& log, const std::string& where);
  Status Admit(std::string_view entry);
  void Commit(uint64_t index, std::string_view entry);
  // Committed balances.
  int64_t Available(const std::string& account) const;
  std::vector<ledger::Earning> Earnings() const;
  // A job's money: committed, or as admitted (ahead of the store: what a
  // jobClosed appended now must state).
  StatusOr<ledger::JobFunds> Funds(const std::string& job_id) const;
  StatusOr<ledger::JobFunds> AdmittedFunds(const std::string& job_id) const;
  uint64_t EscrowOf(const std::string& account) const;
  uint64_t FinetuneFee(const std::string& model_hash) const;
  // Verification, as committed (docs/verification.md).
  std::map<ledger::ChallengeKey, ledger::ChallengeState> Challenges() const;
  std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> OpenChallenges() const;
  ledger::WorkerRecord RecordOf(const std::string& worker_key) const;
  bool Removed(const std::string& job_id, const std::string& worker_key) const;
  ledger::VerifyPolicy Policy(const std::string& job_id) const;
  std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>> Unaudited() const;
  uint64_t HeldFor(const std::string& account) const;
  // A copy of the committed engine (tests compare it with a fresh replay).
  std::unique_ptr<ledger::PayoutEngine> Snapshot() const;

 private:
  mutable Mutex mu_;
  std::unique_ptr<ledger::PayoutEngine> admitted_ GUARDED_BY(mu_);
  std::unique_ptr<ledger::PayoutEngine> committed_ GUARDED_BY(mu_);
  uint64_t next_admit_ GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_BALANCES_H_
