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
// Verification (ledger/payouts_verify.cc, docs/verification.md): a job
// submitted with replays on holds each accepted round's pay until W more of
// its rounds were audited (roundAudited); the audit draws, from the tree
// head after it, which rounds are replayed (ledger/verification_rules.h);
// a verifier's verdict releases a replayed round's pay ("pass", "not
// comparable") or forfeits everything the worker has held on the job back
// to its escrow ("fail") and removes it from the job. Verifiers are paid
// from the job's escrow at the price the operator assigned them.
// Reputations (passes, fails, flags, rounds) are kept per worker key.
//
// Invariants (property-tested): every balance is >= 0; credited ==
// sum(available) + sum(escrow) + sum(held) + settled; a job's payments never
// exceed its budget. Replaying the same entries gives the same balances on any machine:
// only integers, only the log's contents.
// Thread safety: none; one owner.
#ifndef CAIRN_LEDGER_PAYOUTS_H_
#define CAIRN_LEDGER_PAYOUTS_H_

#include <map>
#include <set>
#include <tuple>
#include <string>
#include <vector>

#include "ledger/compact_range.h"
#include "ledger/entry.h"
#include "ledger/verification_rules.h"

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
  std::string reason;  // "compute", "data", "finetune fee", "refund", "serving", "royalty", "data royalty", "verification"
  std::string job;     // the training job it came from ("" for serving revenue)
};

// What a training job's escrow holds and has paid (all micro-credits).
struct JobFunds {
  std::string submitter;
  uint64_t budget = 0;    // deposited: the submission and every top-up
  uint64_t compute = 0;
  uint64_t data = 0;
  uint64_t fee = 0;       // fine-tuning fee to the parent's author
  uint64_t verify = 0;    // to verifiers, for replays
  uint64_t refunded = 0;
  uint64_t forfeited = 0; // held pay taken back after failing verdicts (back in escrow)
  uint64_t held = 0;      // of compute + data: accepted, not yet released to the workers and data owners
  uint64_t max_round = 0;  // the most any one round has cost (every worker's pay for it)
  bool closed = false;
  std::string outcome;    // the last jobClosed's
  uint64_t paid() const { return compute + data + fee + verify; }
  uint64_t escrow() const { return budget - paid() - refunded; }
};

// What a job's submission asked of verification (jobSubmitted).
struct VerifyPolicy {
  uint32_t replay_ppm = 0;  // p_min
  uint32_t probation = 0;   // rounds
  uint32_t hold = 0;        // W, in audited rounds
  bool on() const { return replay_ppm > 0 || probation > 0; }
};

// A replay the log asks for: (job, attempt, round, worker).
struct ChallengeKey {
  std::string job;
  uint32_t attempt = 0;
  uint64_t round = 0;
  std::string worker;
  bool operator<(const ChallengeKey& o) const {
    return std::tie(job, attempt, round, worker) < std::tie(o.job, o.attempt, o.round, o.worker);
  }
};
struct ChallengeState {
  uint64_t audit_index = 0;   // the roundAudited entry that drew it
  int64_t audited_ms = 0;
  uint32_t flags = 0;         // the cheap checks' flags, if that is why
  bool probation = false;
  std::string verifier;       // the latest verifierAssigned ("" for none yet)
  uint64_t price_per_hour = 0;
  int64_t assigned_ms = 0;
  std::string task;           // the verification task's id
  uint32_t task_attempt = 0;
  std::string result;         // "" while open; pass | fail | not comparable
  uint32_t step = 0;
  std::string reason;
  uint64_t verdict_index = 0;
  std::string signer;         // who signed the verdict
};

class PayoutEngine {
 public:
  // `operator_key`: the 32-byte key whose credits, settlements, placements
  // and usage reports are authoritative (the coordinator's).
  explicit PayoutEngine(std::string operator_key) : operator_(std::move(operator_key)) {}

  // Applies the validated entry at `index` (indices must increase).
  Status Apply(uint64_t index, std::string_view entry);

  int64_t Available(const std::string& account) const;
  const std::string& operator_key() const { return operator_; }
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
  // Pay accepted for `account` and held for a challenge window.
  uint64_t HeldFor(const std::string& account) const;
  uint64_t total_held() const;
  // Every challenge the log has drawn, open or answered.
  const std::map<ChallengeKey, ChallengeState>& challenges() const { return challenges_; }
  // Those without a verdict, of jobs still open.
  std::vector<std::pair<ChallengeKey, ChallengeState>> OpenChallenges() const;
  // What the log says of a worker; reputation as ReputationPpm of it.
  WorkerRecord RecordOf(const std::string& worker_key) const;
  const std::map<std::string, WorkerRecord>& worker_records() const { return records_; }
  // A failing verdict removed `worker_key` from the job.
  bool Removed(const std::string& job_id, const std::string& worker_key) const;
  // The job's verification policy (zeros: none, or an unknown job).
  VerifyPolicy PolicyOf(const std::string& job_id) const;
  // Receipts accepted and not yet audited, per (job, attempt, round): the
  // workers (the coordinator audits them).
  std::map<std::tuple<std::string, uint32_t, uint64_t>, std::vector<std::string>> Unaudited() const;
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
  // An accepted round's pay, held (verification on) until released or
  // forfeited. The amounts are counted in JobFunds compute/data already.
  struct Held {
    uint64_t compute = 0;
    std::map<std::string, uint64_t> data;  // owner -> micros
    uint64_t rounds_before = 0;            // the worker's accepted rounds before this one (probation)
    bool audited = false;
    uint64_t audit_no = 0;                 // the job's audit count when it was audited
    bool challenged = false;
    bool answered = false;                 // a verdict came (pass or not comparable)
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
    VerifyPolicy policy;
    std::map<std::tuple<uint32_t, uint64_t, std::string>, Held> held;  // (attempt, round, worker)
    uint64_t audits = 0;            // roundAudited entries applied
    std::set<std::string> removed;  // workers a failing verdict removed
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
  // Verification (ledger/payouts_verify.cc).
  Status ApplyAudited(uint64_t index, const EntryHeader& h, schema::RoundAudited::Reader b);
  Status ApplyVerifierAssigned(const EntryHeader& h, schema::VerifierAssigned::Reader b);
  Status ApplyVerdict(uint64_t index, const EntryHeader& h, schema::Verdict::Reader b);
  // Pays out a held round (to the worker and the data owners).
  void Release(uint64_t index, const std::string& job_id, Job& job, const std::string& worker, Held& h);
  // Releases every held round of `job` whose window has passed (all, `all`).
  void ReleaseDue(uint64_t index, const std::string& job_id, Job& job, bool all);
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
  std::map<ChallengeKey, ChallengeState> challenges_;
  std::set<ChallengeKey> open_;  // no verdict yet, job open
  std::map<std::string, WorkerRecord> records_;  // by worker key
  std::map<std::string, uint64_t> held_by_account_;
  CompactRange tree_;     // every entry applied: the tree head after each
  bool tree_valid_ = true;  // false once an index was skipped (the heads are not the log's)
  uint64_t credited_ = 0;
  uint64_t settled_ = 0;
  std::vector<Earning> earnings_;
  uint64_t last_index_ = 0;
  bool any_ = false;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_PAYOUTS_H_
