// The auditor's summary of a replayed log (`cairn ledger verify`): every
// verdict, every worker's reputation and every account's money, as text in a
// fixed order, so two replays of the same log anywhere print the same bytes
// (docs/verification.md).
// Thread safety: pure functions.
#ifndef CAIRN_LEDGER_SUMMARY_H_
#define CAIRN_LEDGER_SUMMARY_H_

#include <string>

#include "ledger/payouts.h"

namespace cairn::ledger {

std::string VerdictSummary(const PayoutEngine& e);
std::string ReputationSummary(const PayoutEngine& e);
std::string PayoutSummary(const PayoutEngine& e);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_SUMMARY_H_
