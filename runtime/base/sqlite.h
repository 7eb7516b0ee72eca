// Small SQLite helpers shared by the ledger store and the coordinator's job
// store: errors as Status with canonical codes, and a prepared statement
// that finalises itself.
// Thread safety: like the sqlite3 connection they use (callers lock).
#ifndef CAIRN_RUNTIME_BASE_SQLITE_H_
#define CAIRN_RUNTIME_BASE_SQLITE_H_

#include <cstdint>
#include <string>

#include <sqlite3.h>

#include "runtime/base/statusor.h"

namespace cairn {

// "what: sqlite message", coded by the error (BUSY -> Unavailable,
// CORRUPT -> DataLoss, FULL -> ResourceExhausted, ...).
Status SqlError(sqlite3* db, const std::string& what);
// Runs SQL that returns no rows.
Status SqlExec(sqlite3* db, const std::string& sql);

// What identifies one of cairn's SQLite files: PRAGMA application_id and
// user_version, and whether it has any table yet (0 tables: a new file).
struct SqliteHeader {
  int64_t application_id = 0;
  int64_t user_version = 0;
  int64_t tables = 0;
};
StatusOr<SqliteHeader> ReadSqliteHeader(sqlite3* db, const std::string& path);

// A prepared statement, finalised on scope exit. Columns and parameters are
// 0- and 1-based as in SQLite.
class SqlStatement {
 public:
  SqlStatement(sqlite3* db, const char* sql) : db_(db) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~SqlStatement() { sqlite3_finalize(stmt_); }
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;

  Status Prepared(const std::string& what) const { return rc_ == SQLITE_OK ? OkStatus() : SqlError(db_, what); }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int Step() { return sqlite3_step(stmt_); }
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t ColInt(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::string ColBlob(int i) const {
    const void* p = sqlite3_column_blob(stmt_, i);
    int n = sqlite3_column_bytes(stmt_, i);
    return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  std::string ColText(int i) const {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_SQLITE_H_
