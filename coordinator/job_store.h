// JobStore: the coordinator's job table and job logs in SQLite
// (DIR/state.db), so that a restarted coordinator knows every job it had
// accepted. Money is not here: the ledger is the source of truth for it.
// The file is marked PRAGMA application_id 0x63726e73 ("crns"),
// user_version 1, WAL mode.
// Thread safety: one connection behind a mutex; any thread may call.
#ifndef CAIRN_COORDINATOR_JOB_STORE_H_
#define CAIRN_COORDINATOR_JOB_STORE_H_

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
using scheduler::ParseJobSpec;

struct StoredJob {
  JobRecord record;       // spec is re-parsed from spec_text on load
  std::string spec_text;  // the YAML as submitted
};

class JobStore {
 public:
  static StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path);
  ~JobStore();

  Status Save(const JobRecord& job, const std::string& spec_text);
  Status AppendLog(const std::string& job_id, const std::string& line);
  // Every job, in submission order; specs that no longer parse are DataLoss.
  StatusOr<std::vector<StoredJob>> LoadJobs() const;
  StatusOr<std::vector<std::string>> LoadLog(const std::string& job_id) const;

 private:
  explicit JobStore(sqlite3* db) : db_(db) {}
  mutable Mutex mu_;
  sqlite3* db_;
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_JOB_STORE_H_
