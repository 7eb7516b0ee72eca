// AuditBook: what verification needs from the committed ledger, indexed as
// entries commit (and rebuilt from the whole log at start, like LedgerView):
// each receipt's commitments and the entries around it (its acceptance, the
// seat's placement: when the round could have started at the earliest, and
// the worker's receipt of the round before), each job's submission, each attempt's first
// placement (its world) and the updates seen per job (duplicates).
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_AUDIT_BOOK_H_
#define CAIRN_COORDINATOR_AUDIT_BOOK_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "runtime/base/mutex.h"

namespace cairn::coordinator {

struct ReceiptFacts {
  uint64_t index = 0;           // the stepReceipt
  uint64_t accepted_index = 0;  // its receiptAccepted (0 until it commits)
  int64_t accepted_ms = 0;
  uint64_t window_index = 0;    // the seat's jobPlaced: the round cannot have started before it
  int64_t window_ms = 0;
  uint64_t previous_index = 0;  // this worker's receipt of the round before, same attempt and uid (0: none)
  int64_t previous_end_ms = 0;  // ...and the end it claimed (the rounds of a seat do not overlap)
  int64_t start_ms = 0, end_ms = 0;
  uint32_t steps = 0, rank = 0, chain_every = 0;
  std::vector<uint32_t> members;
  std::string fp_before, fp_after, update_hash, state_hash, steps_hash, optimizer_hash, profile;  // raw
  std::vector<uint32_t> chunks;  // consumed, global indices
};

class AuditBook {
 public:
  void Apply(uint64_t index, std::string_view entry);

  // The receipts of (job, attempt, round), by worker key.
  std::map<std::string, ReceiptFacts> Round(const std::string& job, uint32_t attempt, uint64_t round) const;
  std::optional<ReceiptFacts> Receipt(const std::string& job, uint32_t attempt, uint64_t round, const std::string& worker) const;
  // The index of the job's jobSubmitted entry.
  std::optional<uint64_t> Submitted(const std::string& job) const;
  // The number of workers the attempt's first placement placed (0: unknown).
  uint32_t PlacedWorld(const std::string& job, uint32_t attempt) const;
  // The last round `worker` has a receipt for on (job, attempt) (0: none).
  uint64_t LatestRound(const std::string& job, uint32_t attempt, const std::string& worker) const;
  // Updates committed before (job, attempt, round): hash -> "round R by <worker>".
  std::map<std::string, std::string> EarlierUpdates(const std::string& job, uint32_t attempt, uint64_t round) const;

 private:
  using Seat = std::tuple<std::string, uint32_t, std::string>;  // (job, attempt, worker)
  using RoundKey = std::tuple<std::string, uint32_t, uint64_t>;
  struct Update {
    uint32_t attempt;
    uint64_t round;
    std::string worker;
  };
  mutable Mutex mu_;
  std::map<RoundKey, std::map<std::string, ReceiptFacts>> rounds_ GUARDED_BY(mu_);
  std::map<Seat, std::pair<uint64_t, int64_t>> placed_ GUARDED_BY(mu_);        // seat -> (index, ms) of its jobPlaced
  struct Last {
    uint64_t round = 0, index = 0;
    int64_t end_ms = 0;
    int64_t uid = -1;  // members[rank]: a worker that rejoined under a new uid adopted another state
  };
  std::map<Seat, Last> last_receipt_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> submitted_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, uint32_t>, uint32_t> world_ GUARDED_BY(mu_);
  std::map<std::string, std::map<std::string, Update>> updates_ GUARDED_BY(mu_);  // job -> hash -> where
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_AUDIT_BOOK_H_
