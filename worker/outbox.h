// Outbox: the worker's durable queue of what it owes the coordinator — step
// receipts, checkpoints and model registrations (signed ledger entries),
// serving notices and task results — kept in SQLite on the worker's disk
// (WAL, synchronous=FULL: a record survives kill -9 and power loss once
// Push returns) and delivered at least once.
//
// Delivery is stop-and-wait, in push order: the agent sends the head record
// (its sequence in TaskUpdate.sequence), waits for the coordinator's Ack,
// and only then sends the next; an Ack lost, or a coordinator that is away,
// means the head is sent again. The coordinator's appends are idempotent, so
// resending is always safe, and in-order delivery keeps a job's model
// registration ahead of its TaskFinished. A record may carry a blob (a
// checkpoint or a TorchScript model) that must be uploaded to the
// coordinator's blob store before the record is sent; an uploader thread
// does that (NextUpload/MarkUploaded), so training never waits on the
// network.
//
// Acknowledged records stay on disk (without their blobs) as the worker's
// own audit trail of what it signed and how the coordinator answered
// (History), pruned to the newest kMaxHistory.
//
// File: application_id 0x63726e6f ("crno"), user_version 1. One process at
// a time: Open takes an exclusive lock on PATH.lock (FailedPrecondition when
// another worker holds it).
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_WORKER_OUTBOX_H_
#define CAIRN_WORKER_OUTBOX_H_

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"
#include "runtime/wire/messages.h"

struct sqlite3;

namespace cairn::worker {

struct OutboxRecord {
  uint64_t sequence = 0;
  wire::TaskUpdate update;  // update.sequence == sequence
};

struct OutboxUpload {
  uint64_t sequence = 0;
  std::string blob;
};

struct OutboxHistoryItem {
  uint64_t sequence = 0;
  wire::TaskUpdate update;
  bool acked = false;
  uint16_t code = 0;       // the Ack's code once acked
  std::string result;      // the Ack's message
  int64_t created_unix_ms = 0, acked_unix_ms = 0;
};

class Outbox {
 public:
  static constexpr size_t kMaxHistory = 100000;

  // Opens or creates the outbox at `path`. `clock` outlives the outbox.
  static StatusOr<std::unique_ptr<Outbox>> Open(const std::string& path, const Clock* clock = Clock::System());
  ~Outbox();

  // Appends `update` durably and returns its sequence (> 0). A non-empty
  // `blob` is uploaded (NextUpload) before the record may be sent.
  StatusOr<uint64_t> Push(wire::TaskUpdate update, std::string blob = "");
  // The oldest record not yet acknowledged, if it is ready to send (its
  // blob, if any, uploaded). nullopt when empty or the head waits for its
  // upload.
  // A record that no longer decodes is set aside (acked locally with
  // DATA_LOSS, and logged) rather than block the queue.
  std::optional<OutboxRecord> Head();
  // The oldest record whose blob is still to be uploaded.
  std::optional<OutboxUpload> NextUpload() const;
  Status MarkUploaded(uint64_t sequence);
  // The coordinator answered for `sequence` (OK or a permanent refusal):
  // the record leaves the queue. Acking an unknown or acked sequence is a
  // no-op (a duplicate Ack).
  Status Ack(uint64_t sequence, uint16_t code, const std::string& message);

  // Records not yet acknowledged.
  size_t pending() const;
  // (job, attempt) of TaskFinished records not yet acknowledged: tasks that
  // ended but that the coordinator may not know ended.
  std::set<std::pair<std::string, uint32_t>> UnackedFinished() const;
  // Everything on disk, oldest first.
  StatusOr<std::vector<OutboxHistoryItem>> History() const;

 private:
  Outbox(sqlite3* db, int lock_fd, const Clock* clock) : db_(db), lock_fd_(lock_fd), clock_(clock) {}
  Status LoadIndex();

  mutable Mutex mu_;
  sqlite3* const db_;  // used under mu_
  const int lock_fd_;
  const Clock* const clock_;
  size_t pending_ GUARDED_BY(mu_) = 0;
  std::set<std::pair<std::string, uint32_t>> unacked_finished_ GUARDED_BY(mu_);
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_OUTBOX_H_
