// Crash test: a child process appends from 4 threads and is killed with
// SIGKILL at a random moment, 20 times over the same ledger. After every
// restart, every entry the child acknowledged is present at the index it was
// given, and the whole log verifies (hashes, signatures, checkpoint).
#include <csignal>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "ledger/data_dir.h"
#include "ledger/sqlite_store.h"
#include "ledger/verify.h"
#include "runtime/base/temp_dir.h"
#include "runtime/base/subprocess.h"

namespace cairn::ledger {
namespace {

TEST(LedgerCrash, AcknowledgedEntriesSurviveKillDashNine) {
  ScopedTempDir dir("cairn-crash");
  ASSERT_TRUE(InitDataDir(dir.path(), "cairn.test/crash").ok());
  NoteVerifier vkey = OpenDataDir(dir.path()).value()->verifier();
  std::mt19937 rng(20261124);
  std::map<uint64_t, uint64_t> acked;  // index -> sequence
  uint64_t next_seq = 0;
  for (int round = 0; round < 20; ++round) {
    testing::Subprocess child({CAIRN_APPEND_CHILD, dir.path(), std::to_string(next_seq)});
    ASSERT_TRUE(child.started());
    int kill_after_ms = 20 + static_cast<int>(rng() % 300);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
    std::string line;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!child.ReadLine(&line, 5)) continue;
      unsigned long long idx, seq;
      ASSERT_EQ(std::sscanf(line.c_str(), "ack %llu %llu", &idx, &seq), 2) << line;
      acked[idx] = seq;
    }
    child.Signal(SIGKILL);
    // Acks already written to the pipe before the kill count too.
    while (child.ReadLine(&line, 50)) {
      unsigned long long idx, seq;
      if (std::sscanf(line.c_str(), "ack %llu %llu", &idx, &seq) == 2) acked[idx] = seq;
    }
    EXPECT_EQ(child.Wait(), 128 + SIGKILL);
    next_seq += 1'000'000;  // sequences of different rounds never collide

    auto store = SqliteStore::Open(dir.path() + "/ledger.db");
    ASSERT_TRUE(store.ok()) << store.status();
    for (const auto& [idx, seq] : acked) {
      auto entry = (*store)->Entry(idx);
      ASSERT_TRUE(entry.ok()) << "round " << round << ": acknowledged entry " << idx << " lost";
      auto reader = EntryReader::Open(*entry).value();
      ASSERT_EQ(reader.root().getBody().getTest().getSequence(), seq) << "entry " << idx;
    }
    auto reader = NewStoreReader(store->get(), dir.path());
    auto report = VerifyLog(*reader, vkey);
    ASSERT_TRUE(report.ok()) << "round " << round << ": " << report.status();
  }
  EXPECT_GT(acked.size(), 200u) << "the child should have acknowledged a fair number of entries";
}

}  // namespace
}  // namespace cairn::ledger
