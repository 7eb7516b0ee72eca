#include "scheduler/job_store.h"

#include <sqlite3.h>

namespace cairn::scheduler {
namespace {

constexpr int kApplicationId = 0x63726e73;  // "crns"

Status Err(sqlite3* db, const std::string& what) { return InternalError(what + ": " + sqlite3_errmsg(db)); }

Status Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return InternalError("sqlite: " + msg);
  }
  return OkStatus();
}

JobState StateFrom(const std::string& s) {
  if (s == "running") return JobState::kRunning;
  if (s == "succeeded") return JobState::kSucceeded;
  if (s == "failed") return JobState::kFailed;
  if (s == "cancelled") return JobState::kCancelled;
  return JobState::kQueued;
}

std::string Col(sqlite3_stmt* st, int i) {
  const unsigned char* t = sqlite3_column_text(st, i);
  return t == nullptr ? "" : reinterpret_cast<const char*>(t);
}

}  // namespace

StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = db ? Err(db, "open " + path) : InternalError("open " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(Exec(db, "PRAGMA journal_mode=WAL"));
  // NORMAL: in WAL mode a committed write survives the process being
  // killed (only a power cut may lose the last ones); money is in the
  // ledger, which syncs fully.
  RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous=NORMAL"));
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, nullptr);
  int app = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
  int tables = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
  sqlite3_finalize(st);
  if (tables > 0 && app != kApplicationId) return FailedPreconditionError(path + " is not a cairn coordinator state file");
  if (tables == 0) {
    RETURN_IF_ERROR(Exec(db, "PRAGMA application_id=" + std::to_string(kApplicationId)));
    RETURN_IF_ERROR(Exec(db, "PRAGMA user_version=1"));
  }
  RETURN_IF_ERROR(Exec(db,
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
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT OR REPLACE INTO jobs (id, seq, spec, submitter, state, attempt, retries, "
                         "checkpoint_round, message, submitted_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Err(db_, "prepare job save");
  }
  sqlite3_bind_text(st, 1, j.id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 2, static_cast<int64_t>(j.sequence));
  sqlite3_bind_text(st, 3, spec_text.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, j.submitter.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, JobStateName(j.state), -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, j.attempt);
  sqlite3_bind_int64(st, 7, j.retries_used);
  sqlite3_bind_int64(st, 8, static_cast<int64_t>(j.checkpoint_round));
  sqlite3_bind_text(st, 9, j.message.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 10, j.submitted_unix_ms);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? OkStatus() : Err(db_, "save job " + j.id);
}

Status JobStore::AppendLog(const std::string& job_id, const std::string& line) {
  MutexLock lock(&mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO job_logs (job_id, line, text) VALUES (?1, "
                         "(SELECT COALESCE(MAX(line) + 1, 0) FROM job_logs WHERE job_id = ?1), ?2)",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Err(db_, "prepare log append");
  }
  sqlite3_bind_text(st, 1, job_id.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, line.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? OkStatus() : Err(db_, "append log for " + job_id);
}

StatusOr<std::vector<StoredJob>> JobStore::LoadJobs() const {
  MutexLock lock(&mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id, seq, spec, submitter, state, attempt, retries, checkpoint_round, message, "
                         "submitted_ms FROM jobs ORDER BY seq",
                         -1, &st, nullptr) != SQLITE_OK) {
    return Err(db_, "prepare job load");
  }
  std::vector<StoredJob> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    StoredJob s;
    s.record.id = Col(st, 0);
    s.record.sequence = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
    s.spec_text = Col(st, 2);
    s.record.submitter = Col(st, 3);
    s.record.state = StateFrom(Col(st, 4));
    s.record.attempt = static_cast<uint32_t>(sqlite3_column_int64(st, 5));
    s.record.retries_used = static_cast<uint32_t>(sqlite3_column_int64(st, 6));
    s.record.checkpoint_round = static_cast<uint64_t>(sqlite3_column_int64(st, 7));
    s.record.message = Col(st, 8);
    s.record.submitted_unix_ms = sqlite3_column_int64(st, 9);
    auto spec = ParseJobSpec(s.spec_text, s.record.id);
    if (!spec.ok()) {
      sqlite3_finalize(st);
      return DataLossError("stored spec of job " + s.record.id + " no longer parses: " + spec.status().message());
    }
    s.record.spec = *spec;
    out.push_back(std::move(s));
  }
  sqlite3_finalize(st);
  return out;
}

StatusOr<std::vector<std::string>> JobStore::LoadLog(const std::string& job_id) const {
  MutexLock lock(&mu_);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT text FROM job_logs WHERE job_id = ? ORDER BY line", -1, &st, nullptr) != SQLITE_OK) {
    return Err(db_, "prepare log load");
  }
  sqlite3_bind_text(st, 1, job_id.c_str(), -1, SQLITE_TRANSIENT);
  std::vector<std::string> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(Col(st, 0));
  sqlite3_finalize(st);
  return out;
}

}  // namespace cairn::scheduler
