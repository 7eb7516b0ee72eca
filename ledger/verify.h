// Full audit of a ledger: `cairn ledger verify`.
//
// Replays the log from entry 0 through a LogReader, trusting nothing it
// reads: verifies the checkpoint's signature under the log's verifier key;
// validates every entry (canonical form, limits, the actor's signature);
// recomputes the Merkle tree and checks the checkpoint's root; compares every
// hash tile the source serves with the recomputed one; and replays the
// payout engine, which refuses any entry that breaks the payout rules.
// The first problem found is returned, naming the entry index, tile or
// signature at fault.
// Thread safety: pure function over the reader.
#ifndef CAIRN_LEDGER_VERIFY_H_
#define CAIRN_LEDGER_VERIFY_H_

#include <functional>

#include "ledger/checkpoint.h"
#include "ledger/log_reader.h"
#include "ledger/payouts.h"

namespace cairn::ledger {

struct VerifyReport {
  Checkpoint checkpoint;
  uint64_t entries = 0;
  uint64_t tiles_compared = 0;
  std::unique_ptr<PayoutEngine> payouts;  // balances after the replay
};

// `progress(entries_done, total)` is called now and then (may be empty).
StatusOr<VerifyReport> VerifyLog(LogReader& reader, const NoteVerifier& vkey,
                                 const std::function<void(uint64_t, uint64_t)>& progress = {});

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_VERIFY_H_
