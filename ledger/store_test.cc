// Runs the LedgerStore conformance suite on both backends, plus what only the
// SQLite store can show (refusing foreign files).
#include <fstream>

#include <sqlite3.h>

#include "ledger/fault_store.h"
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

// The fault-injecting wrapper, unarmed, over SQLite: it must be a faithful
// store until told to fail.
StoreBackend FaultyUnarmed() {
  return {"FaultInjectingSqlite", [](const std::string& dir) -> StatusOr<std::unique_ptr<LedgerStore>> {
            ASSIGN_OR_RETURN(auto s, SqliteStore::Open(dir + "/ledger.db"));
            return std::unique_ptr<LedgerStore>(new FaultInjectingStore(std::move(s)));
          },
          true};
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values(Memory(), Sqlite(), FaultyUnarmed()), BackendName);

LedgerBatch OneEntry(uint64_t index) {
  LedgerBatch b;
  b.first_index = index;
  b.entries.push_back("entry " + std::to_string(index));
  b.checkpoint = "checkpoint " + std::to_string(index + 1) + "\n";
  return b;
}

TEST(FaultInjectingStore, AWriteFaultLeavesTheStoreUnchanged) {
  FaultInjectingStore store(std::make_unique<MemoryStore>());
  ASSERT_TRUE(store.Append(OneEntry(0)).ok());
  store.FailAppend(2, StoreFault::kWrite);
  ASSERT_TRUE(store.Append(OneEntry(1)).ok());
  Status s = store.Append(OneEntry(2));
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(store.Size().value(), 2u);
  EXPECT_EQ(store.LatestCheckpoint().value(), "checkpoint 2\n");
  EXPECT_TRUE(store.Append(OneEntry(2)).ok());  // not sticky: the next one goes through
  EXPECT_EQ(store.failures(), 1u);
}

TEST(FaultInjectingStore, ASyncFaultWritesButReportsFailure) {
  FaultInjectingStore store(std::make_unique<MemoryStore>());
  store.FailAppend(1, StoreFault::kSync, /*sticky=*/true);
  EXPECT_EQ(store.Append(OneEntry(0)).code(), StatusCode::kDataLoss);
  EXPECT_EQ(store.Size().value(), 1u);  // written all the same
  EXPECT_EQ(store.Append(OneEntry(1)).code(), StatusCode::kDataLoss);  // sticky
  EXPECT_EQ(store.failures(), 2u);
}

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
