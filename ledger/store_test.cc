// Runs the LedgerStore conformance suite on both backends, plus what only the
// SQLite store can show (refusing foreign files).
#include <fstream>

#include <sqlite3.h>

#include "ledger/memory_store.h"
#include "ledger/sqlite_store.h"
#include "ledger/store_conformance.h"
#include "runtime/base/temp_dir.h"

namespace cairn::ledger {
namespace {

StoreBackend Memory() {
  return {"Memory", [](const std::string&) -> StatusOr<std::unique_ptr<LedgerStore>> {
            return std::unique_ptr<LedgerStore>(new MemoryStore());
          },
          false};
}

StoreBackend Sqlite() {
  return {"Sqlite", [](const std::string& dir) -> StatusOr<std::unique_ptr<LedgerStore>> {
            ASSIGN_OR_RETURN(auto s, SqliteStore::Open(dir + "/ledger.db"));
            return std::unique_ptr<LedgerStore>(std::move(s));
          },
          true};
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values(Memory(), Sqlite()), BackendName);

TEST(SqliteStore, RefusesFilesThatAreNotCairnLedgers) {
  ScopedTempDir dir("cairn-store");
  std::string path = dir.path() + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = SqliteStore::Open(path);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("not a cairn ledger"), std::string::npos);

  std::string junk = dir.path() + "/junk.db";
  std::ofstream(junk) << std::string(8192, 'j');
  EXPECT_FALSE(SqliteStore::Open(junk).ok());
}

}  // namespace
}  // namespace cairn::ledger
