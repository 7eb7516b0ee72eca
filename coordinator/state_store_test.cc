#include "coordinator/state_store.h"

#include <set>

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

// A running job's placement survives a restart whole: it is what lets the
// coordinator re-adopt the job's workers.
TEST(StateStore, PlacementsRoundTrip) {
  ScopedTempDir dir("cairn-statestore");
  const std::string path = dir.path() + "/state.db";
  const std::string yaml = "name: t\nkind: train\nmodel: mlp\ndatasets: [d]\nresources: {workers: 3}\nstrategy: ddp\n";
  {
    auto store = StateStore::Open(path).value();
    JobRecord j;
    j.id = "t-1";
    j.spec = jobspec::ParseJobSpec(yaml, "x").value();
    j.state = JobState::kRunning;
    j.attempt = 3;
    j.workers = {"a", "c"};
    j.uids = {0, 3};
    j.next_uid = 4;
    j.initial_world = 3;
    j.finished = {"c"};
    j.acked = {"a", "c"};
    j.synced = {"a"};
    j.attempt_resume_round = 15;
    ASSERT_TRUE(store->Save(j, yaml).ok());
  }
  auto jobs = StateStore::Open(path).value()->LoadJobs().value();
  ASSERT_EQ(jobs.size(), 1u);
  const JobRecord& j = jobs[0].record;
  EXPECT_EQ(j.workers, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(j.uids, (std::vector<uint32_t>{0, 3}));
  EXPECT_EQ(j.next_uid, 4u);
  EXPECT_EQ(j.initial_world, 3u);
  EXPECT_EQ(j.finished, (std::set<std::string>{"c"}));
  EXPECT_EQ(j.acked, (std::set<std::string>{"a", "c"}));
  EXPECT_EQ(j.synced, (std::set<std::string>{"a"}));
  EXPECT_EQ(j.attempt_resume_round, 15u);
}

// A row whose spec no longer parses fails that job only; the others load.
TEST(StateStore, AnUnparsableStoredSpecFailsOnlyItsJob) {
  ScopedTempDir dir("cairn-statestore");
  const std::string path = dir.path() + "/state.db";
  const std::string good = "name: g\nkind: train\nmodel: mlp\ndatasets: [d]\n";
  {
    auto store = StateStore::Open(path).value();
    for (const char* id : {"bad-1", "good-2"}) {
      JobRecord j;
      j.id = id;
      j.spec = jobspec::ParseJobSpec(good, "x").value();
      j.state = JobState::kRunning;
      j.workers = {"a"};
      j.uids = {0};
      ASSERT_TRUE(store->Save(j, j.id == "bad-1" ? std::string("kind: [not, a, kind]\n") : good).ok());
    }
  }
  auto jobs = StateStore::Open(path).value()->LoadJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].record.state, JobState::kFailed);
  EXPECT_TRUE((*jobs)[0].record.workers.empty());
  EXPECT_NE((*jobs)[0].record.message.find("no longer parses"), std::string::npos) << (*jobs)[0].record.message;
  EXPECT_EQ((*jobs)[1].record.state, JobState::kRunning);
  EXPECT_EQ((*jobs)[1].record.workers, (std::vector<std::string>{"a"}));
}

// A version-1 file (jobs and logs only) is upgraded in place; a newer one
// than this build reads is refused, naming both versions.
TEST(StateStore, UpgradesVersionOneAndRefusesNewerVersions) {
  ScopedTempDir dir("cairn-statestore");
  const std::string path = dir.path() + "/state.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "PRAGMA application_id=1668443763; PRAGMA user_version=1;"
                         "CREATE TABLE jobs (id TEXT PRIMARY KEY, seq INTEGER, spec TEXT, submitter TEXT, state TEXT, "
                         "attempt INTEGER, retries INTEGER, checkpoint_round INTEGER, message TEXT, submitted_ms INTEGER);"
                         "CREATE TABLE job_logs (job_id TEXT, line INTEGER, text TEXT, PRIMARY KEY (job_id, line)) WITHOUT ROWID;"
                         "INSERT INTO jobs VALUES ('old-1', 1, 'name: old\nkind: benchmark\n', 's', 'succeeded', 1, 0, 0, 'done', 5);",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    auto store = StateStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    auto jobs = (*store)->LoadJobs().value();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].record.id, "old-1");
    EXPECT_TRUE(jobs[0].record.workers.empty());
    EXPECT_TRUE((*store)->PutApiKey(StoredApiKey{std::string(64, 'f'), std::string(32, 'a'), "k", 1}).ok());
  }
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=9", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto newer = StateStore::Open(path);
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(newer.status().message().find("version 9"), std::string::npos) << newer.status();
}

}  // namespace
}  // namespace cairn::coordinator
