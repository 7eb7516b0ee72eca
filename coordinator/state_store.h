// StateStore: the coordinator's own state in one SQLite file
// (DIR/state.db): the job table (each job's spec, state and current
// placement, so a restarted coordinator re-adopts running jobs), job logs,
// and API keys (only their SHA-256). Everything that carries money — and
// everything that can be rebuilt from it (balances, checkpoints, models,
// datasets) — is in the ledger instead, and rebuilt from it at start.
//
// File: PRAGMA application_id 0x63726e73 ("crns"), user_version 2 (version
// 1, from before placements and API keys were kept here, is upgraded in
// place), WAL mode, synchronous=FULL (a committed write survives a power
// cut too: an API key handed out or a placement made is not forgotten).
// A row whose spec no longer parses loads as a failed job, with the reason.
// Thread safety: one connection behind a mutex; any thread may call.
#ifndef CAIRN_COORDINATOR_STATE_STORE_H_
#define CAIRN_COORDINATOR_STATE_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "runtime/base/mutex.h"
#include "scheduler/cluster.h"

struct sqlite3;

namespace cairn::coordinator {

using scheduler::JobRecord;
using scheduler::JobState;
using scheduler::JobStateName;

struct StoredJob {
  JobRecord record;       // spec is re-parsed from spec_text on load
  std::string spec_text;  // the YAML as submitted
};

struct StoredApiKey {
  std::string hash_hex;   // SHA-256 of the key, hex
  std::string account;    // raw 32-byte Ed25519 key
  std::string name;
  int64_t created_unix_ms = 0;
};

class StateStore {
 public:
  static constexpr int kVersion = 2;
  // FailedPrecondition for a file that is not a coordinator state file, or
  // one of a newer version.
  static StatusOr<std::unique_ptr<StateStore>> Open(const std::string& path);
  ~StateStore();

  Status Save(const JobRecord& job, const std::string& spec_text);
  Status AppendLog(const std::string& job_id, const std::string& line);
  // Every job, in submission order; specs that no longer parse are DataLoss.
  StatusOr<std::vector<StoredJob>> LoadJobs() const;
  StatusOr<std::vector<std::string>> LoadLog(const std::string& job_id) const;
  // The spec a job was submitted with, exactly. NotFound for an unknown job.
  StatusOr<std::string> SpecText(const std::string& job_id) const;

  Status PutApiKey(const StoredApiKey& key);
  StatusOr<std::vector<StoredApiKey>> LoadApiKeys() const;

 private:
  explicit StateStore(sqlite3* db) : db_(db) {}
  Status Migrate(int64_t from);
  mutable Mutex mu_;
  sqlite3* db_;  // used under mu_
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_STATE_STORE_H_
