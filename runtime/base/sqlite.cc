#include "runtime/base/sqlite.h"

namespace cairn {

Status SqlError(sqlite3* db, const std::string& what) {
  int code = sqlite3_extended_errcode(db);
  std::string msg = what + ": " + sqlite3_errmsg(db);
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return UnavailableError(msg);
    case SQLITE_FULL: return ResourceExhaustedError(msg);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return DataLossError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN: return PermissionDeniedError(msg);
    default: return InternalError(msg);
  }
}

Status SqlExec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return InternalError("sqlite: " + msg + " in: " + sql.substr(0, 200));
  }
  return OkStatus();
}

StatusOr<SqliteHeader> ReadSqliteHeader(sqlite3* db, const std::string& path) {
  SqliteHeader h;
  SqlStatement a(db, "PRAGMA application_id");
  RETURN_IF_ERROR(a.Prepared("read application_id of " + path));
  if (a.Step() == SQLITE_ROW) h.application_id = a.ColInt(0);
  SqlStatement v(db, "PRAGMA user_version");
  RETURN_IF_ERROR(v.Prepared("read user_version of " + path));
  if (v.Step() == SQLITE_ROW) h.user_version = v.ColInt(0);
  SqlStatement t(db, "SELECT count(*) FROM sqlite_master");
  RETURN_IF_ERROR(t.Prepared("read the schema of " + path));
  if (t.Step() == SQLITE_ROW) h.tables = t.ColInt(0);
  return h;
}

}  // namespace cairn
