#include "coordinator/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "runtime/base/temp_dir.h"

namespace cairn::coordinator {
namespace {

TEST(StateStore, JobsAndLogsSurviveReopen) {
  ScopedTempDir dir("cairn-statestore");
  std::string path = dir.path() + "/state.db";
  std::string yaml = "name: bench\nkind: benchmark\nresources: {workers: 2}\n";
  {
    auto store = StateStore::Open(path).value();
    JobRecord j;
    j.id = "bench-abc";
    j.spec = jobspec::ParseJobSpec(yaml, "x").value();
    j.sequence = 7;
    j.state = JobState::kRunning;
    j.attempt = 2;
    j.retries_used = 1;
    j.checkpoint_round = 40;
    j.message = "requeued";
    ASSERT_TRUE(store->Save(j, yaml).ok());
    j.message = "saved twice";
    ASSERT_TRUE(store->Save(j, yaml).ok());  // an update, not a second row
    ASSERT_TRUE(store->AppendLog("bench-abc", "first").ok());
    ASSERT_TRUE(store->AppendLog("bench-abc", "second").ok());
  }
  auto store = StateStore::Open(path).value();
  auto jobs = store->LoadJobs().value();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].record.id, "bench-abc");
  EXPECT_EQ(jobs[0].record.state, JobState::kRunning);
  EXPECT_EQ(jobs[0].record.attempt, 2u);
  EXPECT_EQ(jobs[0].record.checkpoint_round, 40u);
  EXPECT_EQ(jobs[0].record.message, "saved twice");
  EXPECT_EQ(jobs[0].record.spec.workers, 2u);
  EXPECT_EQ(store->LoadLog("bench-abc").value(), (std::vector<std::string>{"first", "second"}));
  EXPECT_TRUE(store->LoadLog("nope").value().empty());
}

TEST(StateStore, RefusesForeignDatabases) {
  ScopedTempDir dir("cairn-statestore");
  std::string path = dir.path() + "/other.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(StateStore::Open(path).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cairn::coordinator
