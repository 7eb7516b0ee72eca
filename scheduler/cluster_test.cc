// The control plane's failure handling on fake time: placement, liveness,
// revocation within 3 heartbeat intervals, requeue from the last
// checkpoint up to the retry limit, restarts, cancel.
#include "scheduler/cluster.h"

#include <gtest/gtest.h>

namespace cairn::scheduler {
namespace {

using std::chrono::milliseconds;

WorkerState Worker(const std::string& id, uint32_t slots = 1, double tflops = 1) {
  WorkerState w;
  w.id = id;
  w.region = "local";
  w.free_slots = slots;
  w.tflops = tflops;
  w.memory_bytes = 8ull << 30;
  w.price_per_hour_micros = 1'000'000;
  return w;
}

JobSpec Bench(uint32_t workers, uint32_t retries = 3) {
  JobSpec s;
  s.name = "bench";
  s.kind = JobKind::kBenchmark;
  s.workers = workers;
  s.max_retries = retries;
  return s;
}

int Count(const std::vector<ClusterEvent>& ev, ClusterEvent::Kind k) {
  int n = 0;
  for (const auto& e : ev) n += e.kind == k;
  return n;
}

class ClusterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  Cluster cluster_{&clock_, ClusterOptions{1000, 3}};
  // Heartbeats from every live worker except `silent`, for `ms` of fake time.
  std::vector<ClusterEvent> Run(int ms, const std::string& silent = "") {
    std::vector<ClusterEvent> all;
    for (int t = 0; t < ms; t += 250) {
      clock_.Advance(milliseconds(250));
      for (const auto& [id, w] : cluster_.workers()) {
        if (w.alive && id != silent) {
          EXPECT_TRUE(cluster_.Heartbeat(id).ok());
        }
      }
      auto ev = cluster_.Tick();
      all.insert(all.end(), ev.begin(), ev.end());
    }
    return all;
  }
};

TEST_F(ClusterTest, PlacesAGangAndCompletesWhenEveryRankFinishes) {
  for (const char* w : {"a", "b", "c"}) cluster_.Join(Worker(w));
  std::string id = cluster_.Submit(Bench(2), "alice").value();
  EXPECT_EQ(id, "bench-1");
  EXPECT_EQ(cluster_.Submit(Bench(1), "bob", "bench-1").status().code(), StatusCode::kAlreadyExists);
  auto ev = cluster_.Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);
  EXPECT_EQ(ev[0].workers.size(), 2u);
  EXPECT_EQ(ev[0].attempt, 1u);
  auto job = cluster_.Job(id).value();
  EXPECT_EQ(job.state, JobState::kRunning);
  ASSERT_TRUE(cluster_.TaskFinished(id, job.workers[0], true, "12.5 GFLOP/s").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  EXPECT_EQ(cluster_.TaskFinished(id, "c-not-placed", true, "").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(cluster_.TaskFinished(id, job.workers[1], true, "").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
}

TEST_F(ClusterTest, DeadWorkerIsDetectedWithinThreeIntervalsAndTheJobResumesElsewhere) {
  for (const char* w : {"a", "b", "c"}) cluster_.Join(Worker(w));
  std::string id = cluster_.Submit(Bench(2), "alice").value();
  cluster_.Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_TRUE(cluster_.CheckpointCommitted(id, 7).ok());
  std::string victim = placed[0];
  // Silent for 3 s: still alive at 3.0 s, dead by the first tick after.
  auto ev = Run(3000, victim);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDied), 0);
  ev = Run(500, victim);
  ASSERT_EQ(Count(ev, ClusterEvent::kWorkerDied), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kRevoked), 2);  // the whole gang stops
  ASSERT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);   // and is placed again on the two live workers
  for (const auto& e : ev) {
    if (e.kind != ClusterEvent::kPlaced) continue;
    EXPECT_EQ(e.attempt, 2u);
    EXPECT_EQ(e.resume_round, 7u);
    EXPECT_EQ(std::count(e.workers.begin(), e.workers.end(), victim), 0);
  }
  EXPECT_EQ(cluster_.Job(id)->retries_used, 1u);
  EXPECT_EQ(cluster_.Heartbeat(victim).code(), StatusCode::kNotFound);  // must say hello again
}

TEST_F(ClusterTest, RetryLimitFailsTheJob) {
  cluster_.Join(Worker("a"));
  std::string id = cluster_.Submit(Bench(1, /*retries=*/1), "alice").value();
  cluster_.Tick();
  Run(4000, "a");  // a dies: requeued (retry 1 of 1), nothing to run on
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kQueued);
  cluster_.Join(Worker("b"));
  cluster_.Tick();
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  auto ev = Run(4000, "b");
  EXPECT_EQ(Count(ev, ClusterEvent::kJobFailed), 1);
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kFailed);
  EXPECT_NE(cluster_.Job(id)->message.find("after 1 retries"), std::string::npos);
}

TEST_F(ClusterTest, RestartedWorkerKeepsItsIdentityButLosesItsTasks) {
  cluster_.Join(Worker("a"));
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  cluster_.Tick();
  auto ev = cluster_.Join(Worker("a"));  // same key, new process
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  ev = cluster_.Tick();
  EXPECT_EQ(Count(ev, ClusterEvent::kPlaced), 1);  // back on the same (restarted) worker
  EXPECT_EQ(cluster_.Job(id)->attempt, 2u);
}

TEST_F(ClusterTest, NeverRunsMoreThanAdvertised) {
  cluster_.Join(Worker("a", /*slots=*/2));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(cluster_.Submit(Bench(1), "alice").value());
  cluster_.Tick();
  EXPECT_EQ(cluster_.workers().at("a").jobs.size(), 2u);
  EXPECT_EQ(cluster_.QueueDepth(), 3u);
  ASSERT_TRUE(cluster_.TaskFinished(cluster_.Job(ids[0])->id, "a", true, "").ok());
  cluster_.Tick();
  EXPECT_EQ(cluster_.workers().at("a").jobs.size(), 2u);
  EXPECT_EQ(cluster_.QueueDepth(), 2u);
}

TEST_F(ClusterTest, CleanLeaveAndCancel) {
  cluster_.Join(Worker("a"));
  cluster_.Join(Worker("b"));
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  cluster_.Tick();
  std::string holder = cluster_.Job(id)->workers[0];
  auto ev = cluster_.Leave(holder);  // Ctrl-C hands the lease back at once
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  cluster_.Tick();
  EXPECT_NE(cluster_.Job(id)->workers[0], holder);
  ASSERT_TRUE(cluster_.Cancel(id).ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kCancelled);
  EXPECT_EQ(cluster_.Cancel(id).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cluster_.Cancel("nope").code(), StatusCode::kNotFound);
  for (const auto& [wid, w] : cluster_.workers()) EXPECT_TRUE(w.jobs.empty()) << wid;
}

}  // namespace
}  // namespace cairn::scheduler

namespace cairn::scheduler {
namespace {

TEST_F(ClusterTest, ElasticTrainingGoesOnWithoutADeadWorker) {
  for (const char* w : {"a", "b", "c"}) cluster_.Join(Worker(w));
  JobSpec spec = Bench(3);
  spec.kind = JobKind::kTrain;
  spec.strategy = Strategy::kDiloco;
  std::string id = cluster_.Submit(spec, "alice").value();
  cluster_.Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_EQ(placed.size(), 3u);
  auto ev = Run(3500, placed[1]);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDied), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kRevoked), 0) << "nobody else is restarted";
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 0);
  auto j = cluster_.Job(id);
  EXPECT_EQ(j->state, JobState::kRunning);
  EXPECT_EQ(j->workers, (std::vector<std::string>{placed[0], placed[2]}));
  EXPECT_EQ(j->attempt, 1u);
  ASSERT_TRUE(cluster_.TaskFinished(id, placed[0], true, "done").ok());
  ASSERT_TRUE(cluster_.TaskFinished(id, placed[2], true, "done").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
  EXPECT_FALSE(cluster_.TaskFinished(id, placed[1], true, "late").ok());
}

}  // namespace
}  // namespace cairn::scheduler

namespace cairn::scheduler {
namespace {

TEST_F(ClusterTest, ElasticTrainingTakesInAFreshWorker) {
  for (const char* w : {"a", "b"}) cluster_.Join(Worker(w));
  JobSpec spec = Bench(2);
  spec.kind = JobKind::kTrain;
  spec.strategy = Strategy::kDdp;
  std::string id = cluster_.Submit(spec, "alice").value();
  cluster_.Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_EQ(cluster_.Job(id)->uids, (std::vector<uint32_t>{0, 1}));
  // b dies; no free worker yet, so the job runs on one.
  auto ev = Run(3500, placed[1]);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kJoined), 0);
  // A volunteer arrives: it is added with a uid never used in this attempt.
  cluster_.Join(Worker("c"));
  ev = cluster_.Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kJoined), 1);
  const ClusterEvent* joined = nullptr;
  for (const auto& e : ev) if (e.kind == ClusterEvent::kJoined) joined = &e;
  EXPECT_EQ(joined->worker_id, "c");
  EXPECT_EQ(joined->uid, 2u);
  EXPECT_EQ(joined->attempt, 1u);
  auto j = cluster_.Job(id);
  EXPECT_EQ(j->workers, (std::vector<std::string>{placed[0], "c"}));
  EXPECT_EQ(j->uids, (std::vector<uint32_t>{j->uids[0], 2u}));
  EXPECT_EQ(Count(cluster_.Tick(), ClusterEvent::kJoined), 0) << "the job is whole again";
  // A joiner whose task fails (say the job ended before it got in) is
  // dropped; it does not fail the job.
  ASSERT_TRUE(cluster_.TaskFinished(id, "c", false, "could not join").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  EXPECT_EQ(cluster_.Job(id)->workers, (std::vector<std::string>{placed[0]}));
  ASSERT_TRUE(cluster_.TaskFinished(id, placed[0], true, "done").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
  EXPECT_TRUE(cluster_.workers().at("c").jobs.empty());
}

TEST_F(ClusterTest, SingleWorkerJobsAreNeverToppedUp) {
  for (const char* w : {"a", "b"}) cluster_.Join(Worker(w));
  JobSpec spec = Bench(1);
  spec.kind = JobKind::kTrain;
  std::string id = cluster_.Submit(spec, "alice").value();
  cluster_.Tick();
  auto ev = Run(1000);
  EXPECT_EQ(Count(ev, ClusterEvent::kJoined), 0);
  ASSERT_TRUE(cluster_.TaskFinished(id, cluster_.Job(id)->workers[0], false, "boom").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kFailed) << "a failed task fails a job that is not elastic";
}

}  // namespace
}  // namespace cairn::scheduler
