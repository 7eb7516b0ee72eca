// Elastic jobs on fake time: training that goes on without a lost worker,
// takes in a fresh one, and starts again from its checkpoint when nobody
// left holds its state; single-worker jobs are never topped up.
#include "scheduler/cluster_test_support.h"

namespace cairn::scheduler {
namespace {

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
  ASSERT_TRUE(cluster_.CheckpointCommitted(id, 5, 1).ok());
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
