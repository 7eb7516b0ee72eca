#include "ledger/log.h"

#include <atomic>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ledger/fault_store.h"
#include "ledger/memory_store.h"
#include "ledger/sqlite_store.h"
#include "runtime/base/temp_dir.h"

namespace cairn::ledger {
namespace {

constexpr char kOrigin[] = "cairn.test/ledger";

LogOptions Options() {
  LogOptions o;
  o.origin = kOrigin;
  return o;
}

std::string TestEntry(const Ed25519PrivateKey& k, uint64_t seq) {
  return MakeEntry(k, 1'764'000'000'000 + static_cast<int64_t>(seq),
                   [&](schema::LedgerEntry::Body::Builder b) { b.initTest().setSequence(seq); })
      .value();
}

std::vector<std::string> Bytes(const std::vector<Hash>& hs) {
  std::vector<std::string> out;
  for (const auto& h : hs) out.push_back(HashBytes(h));
  return out;
}

std::unique_ptr<Log> OpenLog(std::unique_ptr<LedgerStore> store, const Ed25519PrivateKey& key) {
  auto log = Log::Open(std::move(store), key, Options());
  EXPECT_TRUE(log.ok()) << log.status();
  return log.ok() ? std::move(log).value() : nullptr;
}

TEST(Log, ConcurrentAppendsShareCommitsAndEveryEntryIsProvable) {
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  auto log = OpenLog(std::make_unique<MemoryStore>(), log_key);
  constexpr int kThreads = 4, kEach = 200;
  std::vector<std::vector<uint64_t>> indices(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto idx = log->Append(TestEntry(actor, static_cast<uint64_t>(t * kEach + i)));
        ASSERT_TRUE(idx.ok()) << idx.status();
        indices[t].push_back(*idx);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> all;
  for (const auto& v : indices) all.insert(v.begin(), v.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEach));
  EXPECT_EQ(*all.rbegin(), static_cast<uint64_t>(kThreads * kEach - 1));
  ASSERT_EQ(log->size(), static_cast<uint64_t>(kThreads * kEach));
  EXPECT_LT(log->stats().batches, static_cast<uint64_t>(kThreads * kEach));  // group commit happened

  auto cp = OpenCheckpoint(log->checkpoint(), log->verifier());
  ASSERT_TRUE(cp.ok()) << cp.status();
  EXPECT_EQ(cp->size, log->size());
  for (uint64_t i = 0; i < log->size(); i += 37) {
    std::string entry = log->store().Entry(i).value();
    auto proof = log->InclusionProof(i, cp->size).value();
    EXPECT_TRUE(VerifyInclusion(i, cp->size, HashBytes(LeafHash(entry)), Bytes(proof), HashBytes(cp->root)).ok());
  }
}

TEST(Log, InvalidOrRefusedEntriesAreNotStored) {
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  LogOptions options = Options();
  options.admit = [](const EntryHeader& h, std::string_view) {
    return h.type == EntryType::SETTLEMENT ? PermissionDeniedError("only the operator settles") : OkStatus();
  };
  auto log = Log::Open(std::make_unique<MemoryStore>(), log_key, options).value();
  ASSERT_TRUE(log->Append(TestEntry(actor, 1)).ok());
  std::string bad = TestEntry(actor, 2);
  bad[bad.size() - 5] ^= 1;  // inside the signature
  EXPECT_EQ(log->Append(bad).status().code(), StatusCode::kUnauthenticated);
  auto settle = MakeEntry(actor, 1, [](auto b) {
    auto s = b.initSettlement();
    s.setAccount(AsData(std::string(32, 'a')));
    s.setAmountMicros(5);
  });
  EXPECT_EQ(log->Append(*settle).status().code(), StatusCode::kPermissionDenied);
  auto batch = log->AppendAll({TestEntry(actor, 3), bad});
  EXPECT_NE(batch.status().message().find("entry 1 of 2"), std::string::npos) << batch.status();
  EXPECT_EQ(log->size(), 1u);
  EXPECT_EQ(log->stats().refused, 3u);
}

TEST(Log, ReopensFromSqliteAndStaysConsistent) {
  ScopedTempDir dir("cairn-log");
  std::string path = dir.path() + "/ledger.db";
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  std::string first_checkpoint;
  {
    auto log = OpenLog(SqliteStore::Open(path).value(), log_key);
    std::vector<std::string> entries;
    for (uint64_t i = 0; i < 300; ++i) entries.push_back(TestEntry(actor, i));
    ASSERT_EQ(log->AppendAll(entries).value(), 0u);
    first_checkpoint = log->checkpoint();
  }
  auto log = OpenLog(SqliteStore::Open(path).value(), log_key);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->checkpoint(), first_checkpoint);
  ASSERT_EQ(log->Append(TestEntry(actor, 300)).value(), 300u);
  auto old_cp = OpenCheckpoint(first_checkpoint, log->verifier()).value();
  auto new_cp = OpenCheckpoint(log->checkpoint(), log->verifier()).value();
  auto proof = log->ConsistencyProof(old_cp.size, new_cp.size).value();
  EXPECT_TRUE(VerifyConsistency(old_cp.size, new_cp.size, HashBytes(old_cp.root), HashBytes(new_cp.root),
                                Bytes(proof))
                  .ok());
  // Opening under another key is refused: its checkpoints are not ours.
  log.reset();
  auto other = Log::Open(SqliteStore::Open(path).value(), Ed25519PrivateKey::Generate().value(), Options());
  EXPECT_EQ(other.status().code(), StatusCode::kDataLoss);
}

// Fail-stop: the write that fails and everything after it are refused with
// one sticky error, the commit hook never hears of them, and a reopened log
// holds exactly what was acknowledged.
void FailStopCase(StoreFault fault) {
  ScopedTempDir dir("cairn-log");
  const std::string path = dir.path() + "/ledger.db";
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  std::vector<uint64_t> committed;
  LogOptions options = Options();
  options.on_commit = [&](uint64_t index, std::string_view) { committed.push_back(index); };
  auto faulty = std::make_unique<FaultInjectingStore>(SqliteStore::Open(path).value());
  FaultInjectingStore* store = faulty.get();
  auto log = Log::Open(std::move(faulty), log_key, options).value();
  for (uint64_t i = 0; i < 5; ++i) ASSERT_EQ(log->Append(TestEntry(actor, i)).value(), i);
  store->FailAppend(1, fault);
  auto failed = log->Append(TestEntry(actor, 5));
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status();
  EXPECT_NE(failed.status().message().find("injected fault"), std::string::npos) << failed.status();
  EXPECT_EQ(log->health().code(), StatusCode::kUnavailable);
  // The store works again, but the log stays stopped: it cannot know what the
  // failed write left behind.
  auto after = log->Append(TestEntry(actor, 6));
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(log->size(), 5u);
  EXPECT_EQ(committed, (std::vector<uint64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(log->stats().failed, 1u);
  log.reset();

  auto reopened = OpenLog(SqliteStore::Open(path).value(), log_key);
  ASSERT_NE(reopened, nullptr);
  // A write fault leaves nothing; a sync fault may leave the unacknowledged
  // entry (it was written): never an acknowledged one missing.
  EXPECT_EQ(reopened->size(), fault == StoreFault::kWrite ? 5u : 6u);
  for (uint64_t i = 0; i < 5; ++i) EXPECT_EQ(reopened->store().Entry(i).value(), TestEntry(actor, i));
  EXPECT_TRUE(reopened->health().ok());
  EXPECT_TRUE(reopened->Append(TestEntry(actor, 7)).ok());
}

TEST(Log, AFailedWriteStopsTheLog) { FailStopCase(StoreFault::kWrite); }
TEST(Log, AFailedSyncStopsTheLog) { FailStopCase(StoreFault::kSync); }

TEST(Log, EntriesQueuedBehindAFailureAreRefusedAndNeverCommitted) {
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  std::atomic<int> commits{0};
  LogOptions options = Options();
  options.on_commit = [&](uint64_t, std::string_view) { commits.fetch_add(1); };
  auto faulty = std::make_unique<FaultInjectingStore>(std::make_unique<MemoryStore>());
  FaultInjectingStore* store = faulty.get();
  auto log = Log::Open(std::move(faulty), log_key, options).value();  // writes the empty checkpoint
  store->FailAppend(1, StoreFault::kWrite);
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto r = log->Append(TestEntry(actor, static_cast<uint64_t>(t * 100 + i)));
        if (!r.ok()) {
          EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status();
          refused.fetch_add(1);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(refused.load(), 100);  // the first batch failed; nothing after it was written
  EXPECT_EQ(commits.load(), 0);
  EXPECT_EQ(log->size(), 0u);
}

// Every checkpoint the log ever signs is consistent with every later one.
TEST(Log, SuccessiveCheckpointsAreAllConsistent) {
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  auto log = OpenLog(std::make_unique<MemoryStore>(), log_key);
  std::vector<Checkpoint> seen = {OpenCheckpoint(log->checkpoint(), log->verifier()).value()};
  EXPECT_EQ(seen[0].size, 0u);  // a new log has signed the empty tree
  uint64_t seq = 0;
  for (int batch = 1; batch <= 30; ++batch) {
    std::vector<std::string> entries;
    for (int i = 0; i < batch; ++i) entries.push_back(TestEntry(actor, seq++));
    ASSERT_TRUE(log->AppendAll(entries).ok());
    seen.push_back(OpenCheckpoint(log->checkpoint(), log->verifier()).value());
  }
  for (size_t a = 1; a < seen.size(); ++a) {
    for (size_t b = a; b < seen.size(); b += 7) {
      auto proof = log->ConsistencyProof(seen[a].size, seen[b].size).value();
      ASSERT_TRUE(VerifyConsistency(seen[a].size, seen[b].size, HashBytes(seen[a].root), HashBytes(seen[b].root),
                                    Bytes(proof))
                      .ok())
          << seen[a].size << " -> " << seen[b].size;
    }
  }
}

TEST(Log, TamperedStoredHashIsFoundOnOpen) {
  ScopedTempDir dir("cairn-log");
  std::string path = dir.path() + "/ledger.db";
  auto log_key = Ed25519PrivateKey::Generate().value();
  auto actor = Ed25519PrivateKey::Generate().value();
  {
    auto log = OpenLog(SqliteStore::Open(path).value(), log_key);
    for (uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(log->Append(TestEntry(actor, i)).ok());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "UPDATE tiles SET hashes = substr(hashes, 1, 40) || CASE WHEN substr(hashes, 41, 1) = x'00' THEN x'01' ELSE x'00' END || substr(hashes, 42) "
                         "WHERE level = 0 AND idx = 0",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto log = Log::Open(SqliteStore::Open(path).value(), log_key, Options());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss) << log.status();
}

}  // namespace
}  // namespace cairn::ledger
