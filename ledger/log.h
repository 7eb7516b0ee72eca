// Log: the ledger's append path. Validates entries, assigns them indices,
// stores them durably with group commit, and signs a checkpoint per batch.
//
// Append() validates the entry (ledger/entry.h: canonical form, limits,
// signature) on the caller's thread — so signature checks run in parallel
// across callers — then queues it. One committer thread takes everything
// queued, extends the Merkle tree, signs the new checkpoint and writes the
// whole batch (entries, changed tiles, checkpoint) in one store transaction,
// i.e. one fsync for all of them. Append returns only after that: an
// acknowledged entry is durable and covered by a signed checkpoint. Because
// the tree only grows and only the committer signs, every checkpoint is
// consistent with every earlier one.
//
// Fail-stop (LevelDB's sticky bg_error_): once the store fails a write, the
// log is in an error state for good. That batch and everything queued
// behind it are refused, every later Append returns the same error, and
// health() reports it; nothing is retried, because after a failed write or
// sync the store's state is unknown. Reopening the log (a restart) is the
// only way out: it reloads what the store actually holds.
//
// Thread safety: all public methods may be called from any thread.
#ifndef CAIRN_LEDGER_LOG_H_
#define CAIRN_LEDGER_LOG_H_

#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <thread>

#include "ledger/checkpoint.h"
#include "ledger/entry.h"
#include "ledger/hash_tiles.h"
#include "ledger/store.h"
#include "runtime/base/clock.h"
#include "runtime/base/mutex.h"

namespace cairn::ledger {

struct LogOptions {
  std::string origin;  // checkpoint origin and signed-note key name, e.g. "cairn.example/ledger"
  size_t max_batch_entries = 8192;
  // Optional policy check after validation (e.g. only the operator may
  // credit accounts); an error refuses the entry. Calls are serialized and
  // made in the order entries are queued, so a policy that keeps state
  // (balances) sees them in log order. With several entries in one
  // submission, a refusal of entry k>0 does not undo what the policy did for
  // the entries before it: stateful policies take one entry at a time.
  std::function<Status(const EntryHeader&, std::string_view entry)> admit;
  // Optional: told of every entry once it is durable and checkpointed, in
  // log order, on the committer thread, before the appenders' callbacks.
  // This is where balances and indexes change: never before the commit, so
  // a failed write never moves them. Must not call back into the Log.
  std::function<void(uint64_t index, std::string_view entry)> on_commit;
};

struct LogStats {
  uint64_t batches = 0;
  uint64_t entries = 0;
  uint64_t refused = 0;
  uint64_t failed = 0;  // entries lost to a store failure (not acknowledged)
};

class Log {
 public:
  // Loads the tree from `store` and checks it against the latest checkpoint
  // (DataLoss if they disagree or the checkpoint does not verify under
  // `key`). Starts the committer thread.
  static StatusOr<std::unique_ptr<Log>> Open(std::unique_ptr<LedgerStore> store, Ed25519PrivateKey key,
                                             LogOptions options);
  // Finishes what is queued, then stops.
  ~Log();

  // Returns the entry's index once it is durable and checkpointed. Errors:
  // the entry's validation error (nothing stored), or Unavailable naming the
  // store's failure once the log has stopped (see fail-stop above).
  StatusOr<uint64_t> Append(std::string entry);
  // Several entries from one caller, stored contiguously; returns the first
  // index. All are validated first; one bad entry refuses them all.
  StatusOr<uint64_t> AppendAll(std::vector<std::string> entries);
  // Validates on the calling thread, then queues without waiting: `done`
  // runs on the committer thread with the first index (or the error) once
  // the batch is durable and checkpointed. A validation error is returned
  // at once and `done` is never called. `done` must not call back into Log.
  using AppendCallback = std::function<void(StatusOr<uint64_t>)>;
  Status AppendAsync(std::vector<std::string> entries, AppendCallback done);

  // OK until a store write fails; then the sticky error (Unavailable, with
  // the store's own error in the message) for the rest of this Log's life.
  Status health() const;

  uint64_t size() const;
  std::string checkpoint() const;  // latest signed checkpoint note (a new log signs size 0)
  // Size and checkpoint read together (they change together).
  std::pair<uint64_t, std::string> Published() const;
  StatusOr<Hash> Root(uint64_t size) const;
  StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size) const;
  StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2) const;
  // A tile's bytes as of the current size (tree level, tile index).
  std::string TileBytes(const TileId& id) const;
  const NoteVerifier& verifier() const { return verifier_; }
  const std::string& origin() const { return options_.origin; }
  LedgerStore& store() { return *store_; }
  LogStats stats() const;

 private:
  struct Submission {
    std::vector<std::string> entries;
    AppendCallback done;
  };
  Log(std::unique_ptr<LedgerStore> store, Ed25519PrivateKey key, LogOptions options, NoteVerifier verifier);
  void CommitLoop();
  void CommitBatch(std::vector<std::unique_ptr<Submission>> batch);

  std::unique_ptr<LedgerStore> store_;
  const Ed25519PrivateKey key_;
  const LogOptions options_;
  const NoteVerifier verifier_;

  mutable Mutex tree_mu_;                   // guards the tree and what is published
  HashTiles tree_ GUARDED_BY(tree_mu_);     // may run ahead of size_ during a commit
  uint64_t size_ GUARDED_BY(tree_mu_) = 0;  // published (durable, checkpointed) size
  std::string checkpoint_ GUARDED_BY(tree_mu_);
  LogStats stats_ GUARDED_BY(tree_mu_);
  Status health_ GUARDED_BY(tree_mu_);      // sticky: set once, never cleared

  Mutex admit_mu_;  // admission and queueing in one order (held across both)
  Mutex queue_mu_;
  CondVar queue_cv_;  // signalled when queue_ gains a submission or stopping_ is set
  std::deque<std::unique_ptr<Submission>> queue_ GUARDED_BY(queue_mu_);
  bool stopping_ GUARDED_BY(queue_mu_) = false;
  std::thread committer_;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_LOG_H_
