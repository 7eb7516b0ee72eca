// The coordinator's live view of the ledger's balances: the payout engine
// (ledger/payouts.h) replayed from the log at start, then fed every entry
// as the log admits it, in log order. Entries that would break a payout
// rule (spending credits one does not have, usage of an unknown model) are
// refused before they are appended, so `cairn ledger verify` never finds
// one. The gateway asks it for a consumer's available credits.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_BALANCES_H_
#define CAIRN_COORDINATOR_BALANCES_H_

#include <memory>
#include <string>
#include <string_view>

#include "ledger/log.h"
#include "ledger/payouts.h"
#include "runtime/base/mutex.h"

namespace cairn::coordinator {

class Balances {
 public:
  // Replays the log in `dir` (verifying it) and starts admitting. Until
  // then Admit lets everything through (nothing appends before Start ends).
  Status Load(ledger::Log& log, const std::string& dir);
  // The policy for LogOptions::admit.
  Status Admit(std::string_view entry);
  int64_t Available(const std::string& account) const;
  // Every payment so far, in log order (entry index, account, amount, why).
  std::vector<ledger::Earning> Earnings() const;

 private:
  mutable Mutex mu_;
  std::unique_ptr<ledger::PayoutEngine> engine_ GUARDED_BY(mu_);
  uint64_t next_index_ GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_BALANCES_H_
