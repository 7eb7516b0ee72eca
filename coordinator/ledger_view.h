// LedgerView: what the coordinator looks up in its ledger, kept current
// from committed entries only — replayed from the whole log at start, then
// fed by the log's on_commit hook in log order (ledger/log.h). Nothing
// here changes before an entry is durable, and all of it is rebuilt from
// the ledger on every start, so it never drifts from the record:
//  - every entry's hash, and each step receipt's identity (job, attempt,
//    round, signer): how a resent receipt is recognised and acknowledged
//    without a second entry (at-least-once delivery, applied exactly once);
//  - placements: which worker keys were placed on which (job, attempt), and
//    which verifier on which verification task (verifierAssigned);
//  - each job's latest checkpoint (where a requeued job resumes) and each
//    registered model by name (what `cairn models pull` and serving load);
//  - training progress per job (for /metrics).
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_LEDGER_VIEW_H_
#define CAIRN_COORDINATOR_LEDGER_VIEW_H_

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "runtime/base/metrics.h"
#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"

namespace cairn::coordinator {

struct CheckpointRef {
  uint64_t round = 0;
  uint32_t attempt = 0;
  std::string blob;  // SHA-256, raw
};

struct ModelRef {
  std::string name;
  std::string blob;          // SHA-256 of the TorchScript file, raw
  std::string job_id;
  std::string author;        // royalties' payee (raw key); the signer when the entry names none
  std::vector<std::string> datasets;  // ids, raw
  std::string parent;        // model hash, raw ("" for none)
  std::string license;
  uint64_t ledger_index = 0;
};

struct JobProgress {
  uint64_t round = 0, samples = 0, receipts = 0;
  double loss = 0;
};

// A step receipt's identity: at most one per (job, attempt, round, signer).
using ReceiptId = std::tuple<std::string, uint32_t, uint64_t, std::string>;

class LedgerView {
 public:
  // Training progress from the receipts goes to `metrics` (may be null):
  // cairn_train_round, cairn_train_loss, cairn_train_samples_total per job,
  // cairn_step_receipts_total. `metrics` outlives the view.
  explicit LedgerView(MetricsRegistry* metrics = nullptr);

  // Applies the committed entry at `index` (indices increase). Entries that
  // do not decode are ignored (the log validated them on the way in).
  void Apply(uint64_t index, std::string_view entry);
  uint64_t applied() const;

  // Whether an entry with exactly these bytes is in the ledger.
  bool Contains(std::string_view entry) const;
  // The hash (SHA-256 of the bytes) of the receipt with this identity.
  std::optional<std::string> Receipt(const ReceiptId& id) const;
  // Whether the job's jobSubmitted entry is in the ledger.
  bool Submitted(const std::string& job_id) const;
  // Whether `worker_key` was placed on (job, attempt) by a jobPlaced entry.
  bool Placed(const std::string& job_id, uint32_t attempt, const std::string& worker_key) const;
  // The highest attempt of the job any jobPlaced entry names (0: none).
  uint32_t LastPlacedAttempt(const std::string& job_id) const;

  // The job's furthest checkpoint, or (round > 0) the one of that round.
  std::optional<CheckpointRef> Checkpoint(const std::string& job_id, uint64_t round = 0) const;
  // The job's latest checkpoint of a round before `round` (a redo's start).
  std::optional<CheckpointRef> CheckpointBefore(const std::string& job_id, uint64_t round) const;
  std::optional<ModelRef> Model(const std::string& name) const;
  std::vector<ModelRef> Models() const;
  std::map<std::string, JobProgress> Progress() const;

 private:
  prometheus::Family<prometheus::Gauge>* round_ = nullptr;
  prometheus::Family<prometheus::Gauge>* loss_ = nullptr;
  prometheus::Family<prometheus::Counter>* samples_ = nullptr;
  prometheus::Counter* receipts_total_ = nullptr;
  mutable Mutex mu_;
  uint64_t applied_ GUARDED_BY(mu_) = 0;
  std::set<std::string> hashes_ GUARDED_BY(mu_);
  std::map<ReceiptId, std::string> receipts_ GUARDED_BY(mu_);
  std::set<std::string> submitted_ GUARDED_BY(mu_);
  std::set<std::tuple<std::string, uint32_t, std::string>> placed_ GUARDED_BY(mu_);
  std::map<std::string, uint32_t> last_attempt_ GUARDED_BY(mu_);
  std::map<std::pair<std::string, uint64_t>, CheckpointRef> checkpoints_ GUARDED_BY(mu_);  // (job, round)
  std::map<std::string, ModelRef> models_ GUARDED_BY(mu_);
  std::map<std::string, JobProgress> progress_ GUARDED_BY(mu_);
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_LEDGER_VIEW_H_
