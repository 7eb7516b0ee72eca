#include "ledger/sqlite_store.h"

#include <sqlite3.h>

#include "runtime/base/sqlite.h"

namespace cairn::ledger {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tiles (level INTEGER NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL,
                                  PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
)sql";

}  // namespace

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    Status s = db ? SqlError(db, "open " + path) : InternalError("sqlite3_open_v2 " + path);
    sqlite3_close(db);
    return s;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  MutexLock lock(&store->mu_);  // no other thread can see it yet, but Exec uses db_
  sqlite3_busy_timeout(db, 5000);
  ASSIGN_OR_RETURN(SqliteHeader header, ReadSqliteHeader(db, path));
  const int64_t app_id = header.application_id, version = header.user_version, tables = header.tables;
  if (tables > 0 && app_id != kSqliteApplicationId) {
    return FailedPreconditionError(path + " is an SQLite database but not a cairn ledger");
  }
  if (tables > 0 && version != kSqliteSchemaVersion) {
    return FailedPreconditionError(path + " has ledger schema version " + std::to_string(version) +
                                   "; this build reads version " + std::to_string(kSqliteSchemaVersion));
  }
  RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  if (tables == 0) {
    RETURN_IF_ERROR(store->Exec(("PRAGMA application_id=" + std::to_string(kSqliteApplicationId)).c_str()));
    RETURN_IF_ERROR(store->Exec(("PRAGMA user_version=" + std::to_string(kSqliteSchemaVersion)).c_str()));
  }
  RETURN_IF_ERROR(store->Exec(kSchema));
  SqlStatement size(db, "SELECT COALESCE(MAX(idx) + 1, 0), COUNT(*) FROM entries");
  RETURN_IF_ERROR(size.Prepared("read size"));
  if (size.Step() != SQLITE_ROW) return SqlError(db, "read size");
  if (size.ColInt(0) != size.ColInt(1)) {
    return DataLossError(path + ": entries are not contiguous (" + std::to_string(size.ColInt(1)) +
                         " rows, highest index " + std::to_string(size.ColInt(0) - 1) + ")");
  }
  store->size_ = static_cast<uint64_t>(size.ColInt(0));
  return store;
}

SqliteStore::~SqliteStore() { sqlite3_close(db_); }

Status SqliteStore::Exec(const char* sql) const { return SqlExec(db_, sql); }

Status SqliteStore::Append(const LedgerBatch& batch) {
  MutexLock lock(&mu_);
  if (batch.first_index != size_) {
    return FailedPreconditionError("batch starts at " + std::to_string(batch.first_index) + " but the log has " +
                                   std::to_string(size_) + " entries");
  }
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = AppendLocked(batch);
  if (s.ok()) s = Exec("COMMIT");  // with synchronous=FULL: durable on return
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  size_ += batch.entries.size();
  return OkStatus();
}

Status SqliteStore::AppendLocked(const LedgerBatch& batch) {
  SqlStatement entry(db_, "INSERT INTO entries (idx, data) VALUES (?, ?)");
  RETURN_IF_ERROR(entry.Prepared("prepare entry insert"));
  for (size_t i = 0; i < batch.entries.size(); ++i) {
    entry.Int(1, static_cast<int64_t>(batch.first_index + i));
    entry.Blob(2, batch.entries[i]);
    if (entry.Step() != SQLITE_DONE) return SqlError(db_, "insert entry " + std::to_string(batch.first_index + i));
    entry.Reset();
  }
  SqlStatement tile(db_, "INSERT OR REPLACE INTO tiles (level, idx, hashes) VALUES (?, ?, ?)");
  RETURN_IF_ERROR(tile.Prepared("prepare tile upsert"));
  for (const auto& [id, bytes] : batch.tiles) {
    tile.Int(1, id.level);
    tile.Int(2, static_cast<int64_t>(id.index));
    tile.Blob(3, bytes);
    if (tile.Step() != SQLITE_DONE) return SqlError(db_, "write tile");
    tile.Reset();
  }
  if (!batch.checkpoint.empty()) {
    SqlStatement cp(db_, "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)");
    RETURN_IF_ERROR(cp.Prepared("prepare checkpoint insert"));
    cp.Int(1, static_cast<int64_t>(batch.first_index + batch.entries.size()));
    cp.Blob(2, batch.checkpoint);
    if (cp.Step() != SQLITE_DONE) return SqlError(db_, "write checkpoint");
  }
  return OkStatus();
}

StatusOr<uint64_t> SqliteStore::Size() const {
  MutexLock lock(&mu_);
  return size_;
}

StatusOr<std::string> SqliteStore::Entry(uint64_t index) const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT data FROM entries WHERE idx = ?");
  RETURN_IF_ERROR(q.Prepared("prepare entry read"));
  q.Int(1, static_cast<int64_t>(index));
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.ColBlob(0);
  if (rc == SQLITE_DONE) {
    return OutOfRangeError("entry " + std::to_string(index) + " is past the end of the log (" +
                           std::to_string(size_) + ")");
  }
  return SqlError(db_, "read entry");
}

StatusOr<std::vector<std::string>> SqliteStore::Entries(uint64_t first, uint64_t count) const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT data FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?");
  RETURN_IF_ERROR(q.Prepared("prepare entries read"));
  q.Int(1, static_cast<int64_t>(first));
  q.Int(2, static_cast<int64_t>(std::min<uint64_t>(count, INT64_MAX)));
  std::vector<std::string> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.ColBlob(0));
  if (rc != SQLITE_DONE) return SqlError(db_, "read entries");
  return out;
}

StatusOr<std::string> SqliteStore::Tile(const TileId& id) const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT hashes FROM tiles WHERE level = ? AND idx = ?");
  RETURN_IF_ERROR(q.Prepared("prepare tile read"));
  q.Int(1, id.level);
  q.Int(2, static_cast<int64_t>(id.index));
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.ColBlob(0);
  if (rc == SQLITE_DONE) return NotFoundError("no tile " + std::to_string(id.level) + "/" + std::to_string(id.index));
  return SqlError(db_, "read tile");
}

StatusOr<std::vector<std::pair<TileId, std::string>>> SqliteStore::AllTiles() const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT level, idx, hashes FROM tiles");
  RETURN_IF_ERROR(q.Prepared("prepare tiles read"));
  std::vector<std::pair<TileId, std::string>> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({TileId{static_cast<int>(q.ColInt(0)), static_cast<uint64_t>(q.ColInt(1))}, q.ColBlob(2)});
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "read tiles");
  return out;
}

StatusOr<std::string> SqliteStore::LatestCheckpoint() const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1");
  RETURN_IF_ERROR(q.Prepared("prepare checkpoint read"));
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.ColBlob(0);
  if (rc == SQLITE_DONE) return NotFoundError("the log has no checkpoint yet");
  return SqlError(db_, "read checkpoint");
}

StatusOr<std::string> SqliteStore::GetSetting(const std::string& name) const {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "SELECT value FROM settings WHERE name = ?");
  RETURN_IF_ERROR(q.Prepared("prepare setting read"));
  q.Text(1, name);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.ColBlob(0);
  if (rc == SQLITE_DONE) return NotFoundError("setting '" + name + "' is not set");
  return SqlError(db_, "read setting");
}

Status SqliteStore::PutSetting(const std::string& name, const std::string& value) {
  MutexLock lock(&mu_);
  SqlStatement q(db_, "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)");
  RETURN_IF_ERROR(q.Prepared("prepare setting write"));
  q.Text(1, name);
  q.Blob(2, value);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "write setting");
  return OkStatus();
}

}  // namespace cairn::ledger
