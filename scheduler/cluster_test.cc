// The control plane's failure handling on fake time: placement, liveness,
// revocation within 3 heartbeat intervals, requeue from the last checkpoint
// up to the retry limit, retries by status code, reconciliation of what
// workers hold, re-adoption after a coordinator restart, cancel.
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

JobSpec Elastic(uint32_t workers, Strategy strategy = Strategy::kDiloco) {
  JobSpec s = Bench(workers);
  s.kind = JobKind::kTrain;
  s.strategy = strategy;
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
  Cluster cluster_{&clock_, ClusterOptions{1000, 3, 5000, 1000, 8000}};
  // What each simulated worker runs: it takes what it is assigned and drops
  // what is revoked, as the real agent does.
  std::map<std::string, std::vector<HeldTask>> held_;

  std::vector<ClusterEvent> Apply(std::vector<ClusterEvent> ev) {
    for (const auto& e : ev) {
      if (e.kind == ClusterEvent::kPlaced) {
        for (const auto& w : e.workers) Take(w, e.job_id, e.attempt);
      } else if (e.kind == ClusterEvent::kJoined || e.kind == ClusterEvent::kAssign) {
        Take(e.worker_id, e.job_id, e.attempt);
      } else if (e.kind == ClusterEvent::kRevoked) {
        auto& h = held_[e.worker_id];
        h.erase(std::remove_if(h.begin(), h.end(), [&](const HeldTask& t) { return t.job_id == e.job_id; }), h.end());
      }
    }
    return ev;
  }
  void Take(const std::string& w, const std::string& job, uint32_t attempt) {
    for (const auto& t : held_[w]) {
      if (t.job_id == job && t.attempt == attempt) return;
    }
    held_[w].push_back(HeldTask{job, attempt, false});
  }
  std::vector<ClusterEvent> Tick() { return Apply(cluster_.Tick()); }
  std::vector<ClusterEvent> Join(const std::string& w) {
    held_[w].clear();  // a new process holds nothing
    return Apply(cluster_.Join(Worker(w), {}));
  }
  // A worker reports its task done: it no longer holds it.
  StatusOr<std::vector<ClusterEvent>> Finish(const std::string& job, const std::string& w, const Status& result,
                                              const std::string& message = "") {
    auto& h = held_[w];
    h.erase(std::remove_if(h.begin(), h.end(), [&](const HeldTask& t) { return t.job_id == job; }), h.end());
    auto ev = cluster_.TaskFinished(job, w, cluster_.Job(job)->attempt, result, message);
    if (ev.ok()) Apply(*ev);
    return ev;
  }
  // Heartbeats from every live worker except `silent`, for `ms` of fake time.
  std::vector<ClusterEvent> Run(int ms, const std::string& silent = "") {
    std::vector<ClusterEvent> all;
    for (int t = 0; t < ms; t += 250) {
      clock_.Advance(milliseconds(250));
      for (const auto& [id, w] : cluster_.workers()) {
        if (!w.alive || id == silent) continue;
        auto ev = cluster_.Heartbeat(id, held_[id]);
        EXPECT_TRUE(ev.ok()) << ev.status();
        if (ev.ok()) all.insert(all.end(), ev->begin(), ev->end());
        Apply(*ev);
      }
      auto ev = Tick();
      all.insert(all.end(), ev.begin(), ev.end());
    }
    return all;
  }
};

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

TEST_F(ClusterTest, DeadWorkerIsDetectedWithinThreeIntervalsAndTheJobResumesElsewhere) {
  for (const char* w : {"a", "b", "c"}) Join(w);
  std::string id = cluster_.Submit(Bench(2), "alice").value();
  Tick();
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

TEST_F(ClusterTest, ElasticTrainingGoesOnWithoutADeadWorker) {
  for (const char* w : {"a", "b", "c"}) Join(w);
  std::string id = cluster_.Submit(Elastic(3), "alice").value();
  Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_EQ(placed.size(), 3u);
  auto ev = Run(3500, placed[1]);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDied), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 0);
  for (const auto& e : ev) {
    if (e.kind == ClusterEvent::kRevoked) {
      EXPECT_EQ(e.worker_id, placed[1]) << "nobody else is stopped";
    }
  }
  auto j = cluster_.Job(id);
  EXPECT_EQ(j->state, JobState::kRunning);
  EXPECT_EQ(j->workers, (std::vector<std::string>{placed[0], placed[2]}));
  EXPECT_EQ(j->attempt, 1u);
  ASSERT_TRUE(Finish(id, placed[0], OkStatus(), "done").ok());
  ASSERT_TRUE(Finish(id, placed[2], OkStatus(), "done").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
}

TEST_F(ClusterTest, ElasticTrainingTakesInAFreshWorker) {
  for (const char* w : {"a", "b"}) Join(w);
  std::string id = cluster_.Submit(Elastic(2, Strategy::kDdp), "alice").value();
  Tick();
  auto placed = cluster_.Job(id)->workers;
  ASSERT_EQ(placed.size(), 2u);
  EXPECT_EQ(cluster_.Job(id)->uids, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(cluster_.PlanFor(id, placed[1])->rank, 1u);
  // b dies; no free worker yet, so the job runs on one.
  auto ev = Run(3500, placed[1]);
  EXPECT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kJoined), 0);
  // A volunteer arrives: it is added with a uid never used in this attempt.
  Join("c");
  ev = Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kJoined), 1);
  const ClusterEvent* joined = nullptr;
  for (const auto& e : ev) if (e.kind == ClusterEvent::kJoined) joined = &e;
  EXPECT_EQ(joined->worker_id, "c");
  EXPECT_EQ(joined->uid, 2u);
  EXPECT_EQ(joined->attempt, 1u);
  auto plan = cluster_.PlanFor(id, "c").value();
  EXPECT_TRUE(plan.joining);
  EXPECT_EQ(plan.rank, 2u);
  auto j = cluster_.Job(id);
  EXPECT_EQ(j->workers, (std::vector<std::string>{placed[0], "c"}));
  EXPECT_EQ(Count(Tick(), ClusterEvent::kJoined), 0) << "the job is whole again";
  // A joiner whose task fails (say the job ended before it got in) is
  // dropped; it does not fail the job.
  ASSERT_TRUE(Finish(id, "c", FailedPreconditionError("could not join"), "could not join").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
  EXPECT_EQ(cluster_.Job(id)->workers, (std::vector<std::string>{placed[0]}));
  ASSERT_TRUE(Finish(id, placed[0], OkStatus(), "done").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kSucceeded);
  EXPECT_TRUE(cluster_.workers().at("c").jobs.empty());
}

// Only joiners that never got in are left: nobody can hand them the state,
// so the attempt ends and the job resumes from its checkpoint elsewhere.
TEST_F(ClusterTest, AnElasticJobWithNobodyHoldingItsStateStartsAgainFromItsCheckpoint) {
  for (const char* w : {"a", "b"}) Join(w);
  std::string id = cluster_.Submit(Elastic(2), "alice").value();
  Tick();
  ASSERT_TRUE(cluster_.CheckpointCommitted(id, 5).ok());
  auto placed = cluster_.Job(id)->workers;
  auto ev = Run(3500, placed[1]);  // b dies
  ASSERT_EQ(Count(ev, ClusterEvent::kWorkerDropped), 1);
  Join(placed[1]);  // it comes back and joins as a joiner
  ev = Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kJoined), 1);
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 0);
  ev = Run(3500, placed[0]);  // now the last state holder dies
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 1);
  EXPECT_NE(cluster_.Job(id)->message.find("no worker left holds the job's state"), std::string::npos)
      << cluster_.Job(id)->message;
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 0) << "one worker alive, two wanted";
  Join(placed[0]);
  ev = Tick();
  ASSERT_EQ(Count(ev, ClusterEvent::kPlaced), 1);
  EXPECT_EQ(ev.back().resume_round, 5u);
  // A joiner that signed a receipt holds the state: losing the others then
  // does not end the attempt.
  auto again = cluster_.Job(id)->workers;
  ev = Run(3500, again[1]);
  Join(again[1]);
  Tick();
  cluster_.HoldsState(id, again[1], cluster_.Job(id)->attempt);
  ev = Run(3500, again[0]);
  EXPECT_EQ(Count(ev, ClusterEvent::kJobRequeued), 0);
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kRunning);
}

TEST_F(ClusterTest, SingleWorkerJobsAreNeverToppedUp) {
  for (const char* w : {"a", "b"}) Join(w);
  JobSpec spec = Bench(1);
  spec.kind = JobKind::kTrain;
  std::string id = cluster_.Submit(spec, "alice").value();
  Tick();
  auto ev = Run(1000);
  EXPECT_EQ(Count(ev, ClusterEvent::kJoined), 0);
  ASSERT_TRUE(Finish(id, cluster_.Job(id)->workers[0], InternalError("boom"), "boom").ok());
  EXPECT_EQ(cluster_.Job(id)->state, JobState::kFailed) << "a failed task fails a job that is not elastic";
}

}  // namespace
}  // namespace cairn::scheduler
