// The control plane's failure handling on fake time: placement, liveness,
// revocation within 3 heartbeat intervals, requeue from the last checkpoint
// up to the retry limit, retries by status code, reconciliation of what
// workers hold, re-adoption after a coordinator restart, cancel.
#include "scheduler/cluster_test_support.h"

namespace cairn::scheduler {
namespace {

TEST_F(ClusterTest, PlacesAGangAndCompletesWhenEveryRankFinishes) {
  for (const char* w : {"a", "b", "c"}) Join(w);
  std::string id = cluster_.Submit(Bench(2), "alice").value();
  EXPECT_EQ(id, "bench-1");
  EXPECT_EQ(cluster_.Submit(Bench(1), "bob", "bench-1").status().code(), StatusCode::kAlreadyExists);
  auto ev = Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);
  EXPECT_EQ(ev[0].workers.size(), 2u);
  EXPECT_EQ(ev[0].attempt, 1u);
  auto job = cluster_.Job(id).value();
  EXPECT_EQ(job.state, JobState::kRunning);
  ASSERT_TRUE(Finish(id, job.workers[0], OkStatus(), "12.5 GFLOP/s").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  // A repeated report (a resend) changes nothing.
  ASSERT_TRUE(Finish(id, job.workers[0], OkStatus()).ok());
  EXPECT_EQ(cluster_.Job(id)->finished.size(), 1u);
  ASSERT_TRUE(Finish(id, job.workers[1], OkStatus()).ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
  EXPECT_EQ(cluster_.Job(id)->message, "");
}

// A queued job says why it waits, and says nothing once placed.
TEST_F(ClusterTest, AWaitingJobSaysWhy) {
  Join("cpu");
  JobSpec gpu = Bench(1);
  gpu.device = Device::kCuda;
  gpu.gpus = 2;
  std::string id = cluster_.Submit(gpu, "alice").value();
  cluster_.Tick();
  EXPECT_EQ(cluster_.Job(id)->message, "waiting: no GPU (cuda) worker is connected");
  WorkerState one = Worker("gpu-1");
  one.device = Device::kCuda;
  one.gpus = 1;
  Apply(cluster_.Join(one, {}));
  cluster_.Tick();
  EXPECT_EQ(cluster_.Job(id)->message, "waiting: no connected GPU worker has 2 GPUs");
  WorkerState two = Worker("gpu-2");
  two.device = Device::kCuda;
  two.gpus = 2;
  two.free_slots = 0;
  Apply(cluster_.Join(two, {}));
  cluster_.Tick();
  EXPECT_EQ(cluster_.Job(id)->message, "waiting for 1 cuda worker(s) with a free slot that fit its filters (1 connected)");
  two.free_slots = 1;
  Apply(cluster_.Join(two, {}));
  auto ev = cluster_.Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);
  EXPECT_EQ(cluster_.Job(id)->workers, std::vector<std::string>{"gpu-2"});
  EXPECT_EQ(cluster_.Job(id)->message, "");
}

TEST_F(ClusterTest, AnAssignmentIsSentAgainUntilTheWorkerListsIt) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  auto ev = cluster_.Tick();  // the assignment is "lost": held_ not updated
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);
  clock_.Advance(milliseconds(1000));
  auto hb = cluster_.Heartbeat("a", {}).value();
  ASSERT_EQ(Count(hb, ClusterEvent::kAssign), 1);
  EXPECT_EQ(hb[0].job_id, id);
  EXPECT_EQ(hb[0].attempt, 1u);
  // Listed: acknowledged, no more resends.
  hb = cluster_.Heartbeat("a", {HeldTask{id, 1, false}}).value();
  EXPECT_TRUE(hb.empty());
  EXPECT_EQ(cluster_.Job(id)->acked, (std::set<std::string>{"a"}));
  // A task it should not run is revoked again.
  hb = cluster_.Heartbeat("a", {HeldTask{id, 1, false}, HeldTask{"ghost", 4, false}}).value();
  ASSERT_EQ(Count(hb, ClusterEvent::kRevoked), 1);
  EXPECT_EQ(hb[0].job_id, "ghost");
  EXPECT_EQ(hb[0].attempt, 4u);
  // A finished task on its way is neither revoked nor lost.
  hb = cluster_.Heartbeat("a", {HeldTask{id, 1, true}}).value();
  EXPECT_TRUE(hb.empty());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
}

// A live worker that never takes its assignment (it keeps leaving it out
// of its heartbeats) does not hold the job for ever: the task is lost and the
// job placed again.
TEST_F(ClusterTest, AnAssignmentNeverTakenIsLostAfterTheLimit) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  ASSERT_EQ(Count(cluster_.Tick(), ClusterEvent::kPlaced), 1);
  const int limit = ClusterOptions{}.max_unlisted_heartbeats;
  for (int i = 0; i < limit; ++i) {
    clock_.Advance(milliseconds(1000));
    auto hb = cluster_.Heartbeat("a", {}).value();
    ASSERT_EQ(Count(hb, ClusterEvent::kAssign), 1) << "heartbeat " << i;
  }
  clock_.Advance(milliseconds(1000));
  auto hb = cluster_.Heartbeat("a", {}).value();
  EXPECT_EQ(Count(hb, ClusterEvent::kAssign), 0);
  EXPECT_EQ(Count(hb, ClusterEvent::kJobRequeued), 1);
  auto job = cluster_.Job(id).value();
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_NE(job.message.find("did not take its assignment"), std::string::npos) << job.message;
}

TEST_F(ClusterTest, DeadWorkerIsDetectedWithinThreeIntervalsAndTheJobResumesElsewhere) {
  for (const char* w : {"a", "b", "c"}) Join(w);
  std::string id = cluster_.Submit(Bench(2), "alice").value();
  Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_TRUE(cluster_.CheckpointCommitted(id, 7, 1).ok());
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
  EXPECT_EQ(cluster_.Heartbeat(victim).status().code(), StatusCode::kNotFound);  // must say hello again
}

TEST_F(ClusterTest, RetryLimitFailsTheJob) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1, /*retries=*/1), "alice").value();
  Tick();
  Run(4000, "a");  // a dies: requeued (retry 1 of 1), nothing to run on
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kQueued);
  Join("b");
  Tick();
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  auto ev = Run(4000, "b");
  EXPECT_EQ(Count(ev, ClusterEvent::kJobFailed), 1);
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kFailed);
  EXPECT_NE(cluster_.Job(id)->message.find("after 1 retries"), std::string::npos);
}

TEST_F(ClusterTest, ARestartedWorkerLosesTheTasksItHadAcknowledged) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  Tick();
  Run(500);  // a lists its task: acknowledged
  ASSERT_EQ(cluster_.Job(id)->acked.count("a"), 1u);
  auto ev = Join("a");  // same key, new process, holds nothing
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  ev = Tick();
  EXPECT_EQ(Count(ev, ClusterEvent::kPlaced), 1);  // back on the same (restarted) worker
  EXPECT_EQ(cluster_.Job(id)->attempt, 2u);
}

TEST_F(ClusterTest, AReconnectingWorkerKeepsWhatItStillRuns) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  Tick();
  Run(500);
  auto ev = cluster_.Join(Worker("a"), {HeldTask{id, 1, false}});  // a network blip, then hello again
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  EXPECT_EQ(cluster_.Job(id)->attempt, 1u);
  EXPECT_EQ(cluster_.workers().at("a").jobs.size(), 1u);
}

TEST_F(ClusterTest, TransientFailuresAreRetriedWithBackoffOthersFailAtOnce) {
  Join("a");
  std::string id = cluster_.Submit(Bench(1, /*retries=*/2), "alice").value();
  Tick();
  ASSERT_TRUE(Finish(id, "a", UnavailableError("blob store unreachable"), "blob store unreachable").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kQueued);
  EXPECT_EQ(cluster_.Job(id)->retries_used, 1u);
  EXPECT_NE(cluster_.Job(id)->message.find("in 1000 ms"), std::string::npos) << cluster_.Job(id)->message;
  EXPECT_EQ(Count(Tick(), ClusterEvent::kPlaced), 0) << "placed before its backoff";
  clock_.Advance(milliseconds(1000));
  EXPECT_EQ(Count(Run(250), ClusterEvent::kPlaced), 1);
  ASSERT_TRUE(Finish(id, "a", DeadlineExceededError("slow"), "slow").ok());
  EXPECT_NE(cluster_.Job(id)->message.find("in 2000 ms"), std::string::npos) << "the backoff doubles";
  clock_.Advance(milliseconds(2000));
  Run(250);
  ASSERT_TRUE(Finish(id, "a", AbortedError("again"), "again").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kFailed) << "2 retries used";

  std::string bad = cluster_.Submit(Bench(1, /*retries=*/3), "alice").value();
  Run(250);
  ASSERT_TRUE(Finish(bad, "a", InvalidArgumentError("no dataset 'nope'"), "no dataset 'nope'").ok());
  EXPECT_EQ(cluster_.Job(bad)->state, JobState::kFailed);
  EXPECT_EQ(cluster_.Job(bad)->retries_used, 0u);
  EXPECT_NE(cluster_.Job(bad)->message.find("no dataset 'nope'"), std::string::npos);
}

TEST_F(ClusterTest, ARestartedCoordinatorReadoptsRunningJobs) {
  Join("a");
  Join("b");
  std::string id = cluster_.Submit(Elastic(2), "alice").value();
  Tick();
  Run(500);
  JobRecord saved = cluster_.Job(id).value();
  ASSERT_EQ(saved.acked.size(), 2u);

  // A new coordinator: the same job, restored from its state store.
  Cluster restarted(&clock_, ClusterOptions{1000, 3, 5000, 1000, 8000});
  ASSERT_TRUE(restarted.Restore(saved).ok());
  auto ev = restarted.Join(Worker(saved.workers[0]), {HeldTask{id, saved.attempt, false}});
  EXPECT_TRUE(ev.empty()) << "still running: adopted";
  // The other never comes back: after the grace it is lost, and the elastic
  // job goes on with the one that did.
  for (int i = 0; i < 24; ++i) {
    clock_.Advance(milliseconds(250));
    ASSERT_TRUE(restarted.Heartbeat(saved.workers[0], {HeldTask{id, saved.attempt, false}}).ok());
    auto t = restarted.Tick();
    ev.insert(ev.end(), t.begin(), t.end());
  }
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  EXPECT_EQ(restarted.Job(id)->state, JobState::kRunning);
  EXPECT_EQ(restarted.Job(id)->attempt, saved.attempt);
  EXPECT_EQ(restarted.Job(id)->workers, (std::vector<std::string>{saved.workers[0]}));
}

TEST_F(ClusterTest, NeverRunsMoreThanAdvertised) {
  cluster_.Join(Worker("a", /*slots=*/2));
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(cluster_.Submit(Bench(1), "alice").value());
  Tick();
  EXPECT_EQ(cluster_.workers().at("a").jobs.size(), 2u);
  EXPECT_EQ(cluster_.QueueDepth(), 3u);
  ASSERT_TRUE(Finish(ids[0], "a", OkStatus()).ok());
  Tick();
  EXPECT_EQ(cluster_.workers().at("a").jobs.size(), 2u);
  EXPECT_EQ(cluster_.QueueDepth(), 2u);
}

TEST_F(ClusterTest, CleanLeaveAndCancel) {
  Join("a");
  Join("b");
  std::string id = cluster_.Submit(Bench(1), "alice").value();
  Tick();
  std::string holder = cluster_.Job(id)->workers[0];
  auto ev = cluster_.Leave(holder);  // Ctrl-C hands the lease back at once
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  Tick();
  const std::string now_on = cluster_.Job(id)->workers[0];
  EXPECT_NE(now_on, holder);
  auto cancelled = cluster_.Cancel(id);
  ASSERT_TRUE(cancelled.ok());
  ASSERT_EQ(Count(*cancelled, ClusterEvent::kRevoked), 1);
  EXPECT_EQ((*cancelled)[0].worker_id, now_on);
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kCancelled);
  EXPECT_EQ(cluster_.Cancel(id).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(cluster_.Cancel("nope").status().code(), StatusCode::kNotFound);
  for (const auto& [wid, w] : cluster_.workers()) EXPECT_TRUE(w.jobs.empty()) << wid;
}

}  // namespace
}  // namespace cairn::scheduler
