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
// Training (ledger/payouts_jobs.cc): jobSubmitted, signed by the submitter,
// moves its budget into escrow; jobToppedUp adds to it. A stepReceipt only
// waits; the operator's receiptAccepted pays it, from the escrow and never
// past it: a fine-tune's fee first (once), then compute for min(signed
// duration, observed duration) at the placed price, then data per sample at
// each dataset's price. jobClosed states the totals (refused if they differ
// from the engine's) and refunds what is left to the submitter; a job closed
// as "budget exhausted" reopens with a top-up.
//
// Invariants (property-tested): every balance is >= 0; credited ==
// sum(available) + sum(escrow) + settled; a job's payments never exceed its
// budget. Replaying the same entries gives the same balances on any machine:
// only integers, only the log's contents.
// Thread safety: none; one owner.
#ifndef CAIRN_LEDGER_PAYOUTS_H_
#define CAIRN_LEDGER_PAYOUTS_H_

#include <map>
#include <set>
#include <tuple>
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
  std::string reason;  // "compute", "data", "finetune fee", "refund", "serving", "royalty", "data royalty"
  std::string job;     // the training job it came from ("" for serving revenue)
};

// What a training job's escrow holds and has paid (all micro-credits).
struct JobFunds {
  std::string submitter;
  uint64_t budget = 0;    // deposited: the submission and every top-up
  uint64_t compute = 0;
  uint64_t data = 0;
  uint64_t fee = 0;       // fine-tuning fee to the parent's author
  uint64_t refunded = 0;
  uint64_t max_round = 0;  // the most any one round has cost (every worker's pay for it)
  bool closed = false;
  std::string outcome;    // the last jobClosed's
  uint64_t paid() const { return compute + data + fee; }
  uint64_t escrow() const { return budget - paid() - refunded; }
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
  // Escrow held for `account`'s open jobs.
  uint64_t EscrowOf(const std::string& account) const;
  // A job's money; NotFound if never submitted.
  StatusOr<JobFunds> Funds(const std::string& job_id) const;
  // The fine-tuning fee a model's terms set (0 when none or unknown).
  uint64_t FinetuneFee(const std::string& model_hash) const;
  // Every payment made, in log order ("who earned what, from which entries").
  const std::vector<Earning>& earnings() const { return earnings_; }
  // OK when the conservation and non-negativity invariants hold.
  Status CheckInvariants() const;

 private:
  using Seat = std::pair<uint32_t, std::string>;  // (attempt, worker key)
  struct Placed {
    uint64_t price_per_hour = 0;
    int64_t since_ms = 0;  // the jobPlaced's, then each acceptance's, timestamp
    int64_t until_ms = INT64_MAX;  // a later attempt's jobPlaced ends this seat's time
  };
  struct Pending {  // a step receipt in the log, not yet accepted
    uint64_t signed_ms = 0;
    std::map<std::string, uint64_t> samples;  // dataset -> samples
  };
  struct Job {
    JobFunds funds;
    uint64_t max_price_per_hour = 0;  // 0: no cap
    std::string parent;               // a fine-tune's parent model
    bool fee_due = false;
    std::vector<std::string> datasets;
    std::map<Seat, Placed> seats;
    std::map<std::tuple<uint32_t, uint64_t, std::string>, Pending> pending;  // (attempt, round, worker)
    std::set<std::tuple<uint32_t, uint64_t, std::string>> accepted;
    std::map<std::pair<uint32_t, uint64_t>, uint64_t> round_cost;  // (attempt, round) -> paid for it
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
    uint64_t finetune_fee = 0;
  };

  Status ApplyEntry(uint64_t index, const EntryHeader& h, schema::LedgerEntry::Body::Reader body);
  // The training-job entries (ledger/payouts_jobs.cc).
  Status ApplySubmitted(const EntryHeader& h, schema::JobSubmitted::Reader b);
  Status ApplyPlaced(const EntryHeader& h, schema::JobPlaced::Reader b);
  Status ApplyReceipt(const EntryHeader& h, schema::StepReceipt::Reader b);
  Status ApplyAccepted(uint64_t index, const EntryHeader& h, schema::ReceiptAccepted::Reader b);
  Status ApplyToppedUp(const EntryHeader& h, schema::JobToppedUp::Reader b);
  Status ApplyClosed(uint64_t index, const EntryHeader& h, schema::JobClosed::Reader b);
  Status RequireOperator(const std::string& actor, const char* what) const;
  Status Spend(const std::string& account, uint64_t micros, const std::string& what);
  void Pay(uint64_t index, const std::string& account, uint64_t micros, const char* reason, const std::string& job = "");
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
