// The cluster tests' fixture: simulated workers that take what they are
// assigned and drop what is revoked, as the real agent does, on a FakeClock.
// Shared by cluster_test.cc and cluster_elastic_test.cc.
#ifndef CAIRN_SCHEDULER_CLUSTER_TEST_SUPPORT_H_
#define CAIRN_SCHEDULER_CLUSTER_TEST_SUPPORT_H_

#include <algorithm>
#include <map>

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

}  // namespace
}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_CLUSTER_TEST_SUPPORT_H_
