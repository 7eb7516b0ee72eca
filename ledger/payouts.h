// The payout engine: balances as a pure function of the ordered log.
//
// Apply() takes validated entries in log order and updates integer
// micro-credit balances by the rules in docs/ledger.md ("Payouts"). An entry
// that breaks a rule (spending credits one does not have, paying on a job
// that was never placed, an operator-only entry from someone else, ...) is
// refused with FailedPrecondition / PermissionDenied and changes nothing;
// the coordinator uses the same engine to refuse such entries before they
// are appended, so a valid log never contains one, and `cairn ledger verify`
// reports one if it does.
//
// Invariants (property-tested): every balance is >= 0; credited ==
// sum(available) + sum(escrow) + settled; a job's payments never exceed its
// budget. Replaying the same entries gives the same balances on any machine:
// only integers, only the log's contents.
// Thread safety: none; one owner.
#ifndef CAIRN_LEDGER_PAYOUTS_H_
#define CAIRN_LEDGER_PAYOUTS_H_

#include <map>
#include <string>
#include <vector>

#include "ledger/entry.h"

namespace cairn::ledger {

// Default lineage split of a model's inference revenue when its
// registration names no explicit shares (basis points of 10,000).
inline constexpr uint64_t kDataShareBps = 3000;    // to dataset owners, by samples used in training
inline constexpr uint64_t kParentShareBps = 2000;  // to the parent model's own split
inline constexpr int kMaxLineageDepth = 16;

struct Earning {
  uint64_t entry_index;
  std::string account;
  uint64_t micros;
  std::string reason;  // "compute", "data", "inference", "royalty", ...
};

class PayoutEngine {
 public:
  // `operator_key`: the 32-byte key whose credits, settlements, placements
  // and usage reports are authoritative (the coordinator's).
  explicit PayoutEngine(std::string operator_key) : operator_(std::move(operator_key)) {}

  // Applies the validated entry at `index` (indices must increase).
  Status Apply(uint64_t index, std::string_view entry);

  int64_t Available(const std::string& account) const;
  const std::map<std::string, int64_t>& available() const { return available_; }
  uint64_t total_credited() const { return credited_; }
  uint64_t total_settled() const { return settled_; }
  uint64_t total_escrow() const;
  // Every payment made, in log order ("who earned what, from which entries").
  const std::vector<Earning>& earnings() const { return earnings_; }
  // OK when the conservation and non-negativity invariants hold.
  Status CheckInvariants() const;

 private:
  struct Job {
    std::string submitter;
    uint64_t budget = 0;
    uint64_t paid = 0;
    std::map<std::string, uint64_t> price_per_hour;    // worker -> price
    std::map<std::string, uint64_t> samples_by_dataset;
  };
  struct Dataset {
    std::string owner;
    uint64_t price_per_1k = 0;
  };
  struct Model {
    std::string author;
    std::string parent;
    std::string job;
    std::vector<std::pair<std::string, uint64_t>> shares;  // explicit split, bps
  };

  Status ApplyEntry(uint64_t index, const std::string& actor, schema::LedgerEntry::Body::Reader body);
  Status RequireOperator(const std::string& actor, const char* what) const;
  void Pay(uint64_t index, const std::string& account, uint64_t micros, const char* reason);
  // Splits `micros` of inference revenue across `model`'s lineage.
  void SplitRevenue(uint64_t index, const std::string& model, uint64_t micros, int depth);

  std::string operator_;
  std::map<std::string, int64_t> available_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, Dataset> datasets_;
  std::map<std::string, Model> models_;  // by model hash
  uint64_t credited_ = 0;
  uint64_t settled_ = 0;
  std::vector<Earning> earnings_;
  uint64_t last_index_ = 0;
  bool any_ = false;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_PAYOUTS_H_
