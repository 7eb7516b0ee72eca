#include "coordinator/job_store.h"

#include <sqlite3.h>

#include "runtime/base/sqlite.h"

namespace cairn::coordinator {
namespace {

constexpr int kApplicationId = 0x63726e73;  // "crns"


JobState StateFrom(const std::string& s) {
  if (s == "running") return JobState::kRunning;
  if (s == "succeeded") return JobState::kSucceeded;
  if (s == "failed") return JobState::kFailed;
  if (s == "cancelled") return JobState::kCancelled;
  return JobState::kQueued;
}

}  // namespace

StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = db ? SqlError(db, "open " + path) : InternalError("open " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA journal_mode=WAL"));
  // NORMAL: in WAL mode a committed write survives the process being
  // killed (only a power cut may lose the last ones); money is in the
  // ledger, which syncs fully.
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA synchronous=NORMAL"));
  int64_t app = 0, tables = 0;
  {
    SqlStatement q(db, "PRAGMA application_id");
    RETURN_IF_ERROR(q.Prepared("read application_id of " + path));
    if (q.Step() == SQLITE_ROW) app = q.ColInt(0);
    SqlStatement t(db, "SELECT count(*) FROM sqlite_master");
    RETURN_IF_ERROR(t.Prepared("read the schema of " + path));
    if (t.Step() == SQLITE_ROW) tables = t.ColInt(0);
  }
  if (tables > 0 && app != kApplicationId) return FailedPreconditionError(path + " is not a cairn coordinator state file");
  if (tables == 0) {
    RETURN_IF_ERROR(SqlExec(db, "PRAGMA application_id=" + std::to_string(kApplicationId)));
    RETURN_IF_ERROR(SqlExec(db, "PRAGMA user_version=1"));
  }
  RETURN_IF_ERROR(SqlExec(db,
                       "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, seq INTEGER, spec TEXT, submitter TEXT, "
                       "state TEXT, attempt INTEGER, retries INTEGER, checkpoint_round INTEGER, message TEXT, "
                       "submitted_ms INTEGER);"
                       "CREATE TABLE IF NOT EXISTS job_logs (job_id TEXT, line INTEGER, text TEXT, "
                       "PRIMARY KEY (job_id, line)) WITHOUT ROWID;"));
  return store;
}

JobStore::~JobStore() { sqlite3_close(db_); }

Status JobStore::Save(const JobRecord& j, const std::string& spec_text) {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "INSERT OR REPLACE INTO jobs (id, seq, spec, submitter, state, attempt, retries, checkpoint_round, "
                  "message, submitted_ms) VALUES (?,?,?,?,?,?,?,?,?,?)");
  RETURN_IF_ERROR(st.Prepared("prepare job save"));
  st.Text(1, j.id);
  st.Int(2, static_cast<int64_t>(j.sequence));
  st.Text(3, spec_text);
  st.Text(4, j.submitter);
  st.Text(5, JobStateName(j.state));
  st.Int(6, j.attempt);
  st.Int(7, j.retries_used);
  st.Int(8, static_cast<int64_t>(j.checkpoint_round));
  st.Text(9, j.message);
  st.Int(10, j.submitted_unix_ms);
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "save job " + j.id);
}

Status JobStore::AppendLog(const std::string& job_id, const std::string& line) {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "INSERT INTO job_logs (job_id, line, text) VALUES (?1, "
                  "(SELECT COALESCE(MAX(line) + 1, 0) FROM job_logs WHERE job_id = ?1), ?2)");
  RETURN_IF_ERROR(st.Prepared("prepare log append"));
  st.Text(1, job_id);
  st.Text(2, line);
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "append log for " + job_id);
}

StatusOr<std::vector<StoredJob>> JobStore::LoadJobs() const {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "SELECT id, seq, spec, submitter, state, attempt, retries, checkpoint_round, message, submitted_ms "
                  "FROM jobs ORDER BY seq");
  RETURN_IF_ERROR(st.Prepared("prepare job load"));
  std::vector<StoredJob> out;
  while (st.Step() == SQLITE_ROW) {
    StoredJob s;
    s.record.id = st.ColText(0);
    s.record.sequence = static_cast<uint64_t>(st.ColInt(1));
    s.spec_text = st.ColText(2);
    s.record.submitter = st.ColText(3);
    s.record.state = StateFrom(st.ColText(4));
    s.record.attempt = static_cast<uint32_t>(st.ColInt(5));
    s.record.retries_used = static_cast<uint32_t>(st.ColInt(6));
    s.record.checkpoint_round = static_cast<uint64_t>(st.ColInt(7));
    s.record.message = st.ColText(8);
    s.record.submitted_unix_ms = st.ColInt(9);
    auto spec = ParseJobSpec(s.spec_text, s.record.id);
    if (!spec.ok()) {
      return DataLossError("stored spec of job " + s.record.id + " no longer parses: " + spec.status().message());
    }
    s.record.spec = *spec;
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::vector<std::string>> JobStore::LoadLog(const std::string& job_id) const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT text FROM job_logs WHERE job_id = ? ORDER BY line");
  RETURN_IF_ERROR(st.Prepared("prepare log load"));
  st.Text(1, job_id);
  std::vector<std::string> out;
  while (st.Step() == SQLITE_ROW) out.push_back(st.ColText(0));
  return out;
}

}  // namespace cairn::coordinator
