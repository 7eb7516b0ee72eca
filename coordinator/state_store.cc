#include "coordinator/state_store.h"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "runtime/base/sqlite.h"

namespace cairn::coordinator {
namespace {

constexpr int kApplicationId = 0x63726e73;  // "crns"

JobState StateFrom(const std::string& s) {
  if (s == "running") return JobState::kRunning;
  if (s == "succeeded") return JobState::kSucceeded;
  if (s == "failed") return JobState::kFailed;
  if (s == "cancelled") return JobState::kCancelled;
  if (s == "budget exhausted") return JobState::kExhausted;
  return JobState::kQueued;
}

// The current attempt's placement, as JSON (it changes as a unit).
std::string PlacementJson(const JobRecord& j) {
  nlohmann::json p{{"workers", j.workers},
                   {"uids", j.uids},
                   {"next_uid", j.next_uid},
                   {"initial_world", j.initial_world},
                   {"finished", j.finished},
                   {"acked", j.acked},
                   {"synced", j.synced},
                   {"attempt_resume_round", j.attempt_resume_round}};
  return p.dump();
}

Status ReadPlacement(const std::string& text, JobRecord* j) {
  if (text.empty()) return OkStatus();
  nlohmann::json p = nlohmann::json::parse(text, nullptr, false);
  if (!p.is_object()) return DataLossError("job " + j->id + ": its stored placement is not a JSON object");
  try {
    j->workers = p.value("workers", std::vector<std::string>{});
    j->uids = p.value("uids", std::vector<uint32_t>{});
    j->next_uid = p.value("next_uid", 0u);
    j->initial_world = p.value("initial_world", 0u);
    j->finished = p.value("finished", std::set<std::string>{});
    j->acked = p.value("acked", std::set<std::string>{});
    j->synced = p.value("synced", std::set<std::string>{});
    j->attempt_resume_round = p.value("attempt_resume_round", uint64_t{0});
  } catch (const nlohmann::json::exception& e) {
    return DataLossError("job " + j->id + ": its stored placement is malformed: " + e.what());
  }
  if (j->uids.size() != j->workers.size()) return DataLossError("job " + j->id + ": placement has mismatched uids");
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<StateStore>> StateStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    Status s = db ? SqlError(db, "open " + path) : InternalError("open " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<StateStore> store(new StateStore(db));
  sqlite3_busy_timeout(db, 5000);
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(SqlExec(db, "PRAGMA synchronous=FULL"));
  ASSIGN_OR_RETURN(SqliteHeader header, ReadSqliteHeader(db, path));
  const int64_t app = header.application_id, tables = header.tables, version = header.user_version;
  if (tables > 0 && app != kApplicationId) return FailedPreconditionError(path + " is not a cairn coordinator state file");
  if (version > kVersion) {
    return FailedPreconditionError(path + " has state version " + std::to_string(version) + "; this cairn reads up to " +
                                   std::to_string(kVersion));
  }
  if (tables == 0) RETURN_IF_ERROR(SqlExec(db, "PRAGMA application_id=" + std::to_string(kApplicationId)));
  RETURN_IF_ERROR(store->Migrate(tables == 0 ? 0 : version));
  return store;
}

Status StateStore::Migrate(int64_t from) {
  MutexLock lock(&mu_);
  if (from < 1) {
    RETURN_IF_ERROR(SqlExec(db_,
                            "CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, seq INTEGER, spec TEXT, submitter TEXT, "
                            "state TEXT, attempt INTEGER, retries INTEGER, checkpoint_round INTEGER, message TEXT, "
                            "submitted_ms INTEGER);"
                            "CREATE TABLE IF NOT EXISTS job_logs (job_id TEXT, line INTEGER, text TEXT, "
                            "PRIMARY KEY (job_id, line)) WITHOUT ROWID;"));
  }
  if (from < 2) {
    RETURN_IF_ERROR(SqlExec(db_,
                            "BEGIN;"
                            "ALTER TABLE jobs ADD COLUMN placement TEXT;"
                            "CREATE TABLE IF NOT EXISTS api_keys (hash TEXT PRIMARY KEY, account BLOB NOT NULL, "
                            "name TEXT, created_ms INTEGER);"
                            "PRAGMA user_version=2;"
                            "COMMIT;"));
  }
  return OkStatus();
}

StateStore::~StateStore() { sqlite3_close(db_); }

Status StateStore::Save(const JobRecord& j, const std::string& spec_text) {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "INSERT OR REPLACE INTO jobs (id, seq, spec, submitter, state, attempt, retries, checkpoint_round, "
                  "message, submitted_ms, placement) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
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
  st.Text(11, PlacementJson(j));
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "save job " + j.id);
}

Status StateStore::AppendLog(const std::string& job_id, const std::string& line) {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "INSERT INTO job_logs (job_id, line, text) VALUES (?1, "
                  "(SELECT COALESCE(MAX(line) + 1, 0) FROM job_logs WHERE job_id = ?1), ?2)");
  RETURN_IF_ERROR(st.Prepared("prepare log append"));
  st.Text(1, job_id);
  st.Text(2, line);
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "append log for " + job_id);
}

StatusOr<std::vector<StoredJob>> StateStore::LoadJobs() const {
  MutexLock lock(&mu_);
  SqlStatement st(db_,
                  "SELECT id, seq, spec, submitter, state, attempt, retries, checkpoint_round, message, submitted_ms, "
                  "placement FROM jobs ORDER BY seq");
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
    RETURN_IF_ERROR(ReadPlacement(st.ColText(10), &s.record));
    auto spec = jobspec::ParseJobSpec(s.spec_text, s.record.id);
    if (spec.ok()) {
      s.record.spec = *spec;
    } else if (s.record.state == JobState::kQueued || s.record.state == JobState::kRunning) {
      // One bad row (a spec this version reads differently) must not keep
      // the coordinator, and every other job, from starting.
      s.record.state = JobState::kFailed;
      s.record.workers.clear();
      s.record.uids.clear();
      s.record.message = "its stored spec no longer parses: " + std::string(spec.status().message());
    }
    out.push_back(std::move(s));
  }
  return out;
}

StatusOr<std::vector<std::string>> StateStore::LoadLog(const std::string& job_id) const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT text FROM job_logs WHERE job_id = ? ORDER BY line");
  RETURN_IF_ERROR(st.Prepared("prepare log load"));
  st.Text(1, job_id);
  std::vector<std::string> out;
  while (st.Step() == SQLITE_ROW) out.push_back(st.ColText(0));
  return out;
}

StatusOr<std::string> StateStore::SpecText(const std::string& job_id) const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT spec FROM jobs WHERE id = ?");
  RETURN_IF_ERROR(st.Prepared("prepare spec load"));
  st.Text(1, job_id);
  if (st.Step() != SQLITE_ROW) return NotFoundError("no job " + job_id);
  return st.ColText(0);
}

Status StateStore::PutApiKey(const StoredApiKey& key) {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "INSERT INTO api_keys (hash, account, name, created_ms) VALUES (?,?,?,?)");
  RETURN_IF_ERROR(st.Prepared("prepare API key insert"));
  st.Text(1, key.hash_hex);
  st.Blob(2, key.account);
  st.Text(3, key.name);
  st.Int(4, key.created_unix_ms);
  return st.Step() == SQLITE_DONE ? OkStatus() : SqlError(db_, "store an API key");
}

StatusOr<std::vector<StoredApiKey>> StateStore::LoadApiKeys() const {
  MutexLock lock(&mu_);
  SqlStatement st(db_, "SELECT hash, account, name, created_ms FROM api_keys ORDER BY created_ms");
  RETURN_IF_ERROR(st.Prepared("prepare API key load"));
  std::vector<StoredApiKey> out;
  while (st.Step() == SQLITE_ROW) {
    StoredApiKey k{st.ColText(0), st.ColBlob(1), st.ColText(2), st.ColInt(3)};
    if (k.hash_hex.size() != 64 || k.account.size() != 32) return DataLossError("state.db holds a malformed API key record");
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace cairn::coordinator
