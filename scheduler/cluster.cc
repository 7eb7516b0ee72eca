// Workers: joins, heartbeats, reconciliation, liveness, placement and
// top-ups. Jobs' own transitions are in cluster_jobs.cc.
#include "scheduler/cluster.h"

#include <algorithm>

namespace cairn::scheduler {
namespace {

bool IsElastic(const JobRecord& j) {
  return (j.spec.kind == JobKind::kTrain && j.spec.strategy != Strategy::kSingle) || j.spec.kind == JobKind::kServe;
}

bool Holds(const JobRecord& j, const std::string& worker) {
  return j.state == JobState::kRunning && std::find(j.workers.begin(), j.workers.end(), worker) != j.workers.end() &&
         !j.finished.count(worker);
}

}  // namespace

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
    case JobState::kExhausted: return "budget exhausted";
  }
  return "unknown";
}

bool IsTransient(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded || code == StatusCode::kAborted;
}

std::vector<ClusterEvent> Cluster::Join(const WorkerState& worker, const std::vector<HeldTask>& held) {
  std::vector<ClusterEvent> events;
  WorkerRecord& w = workers_[worker.id];
  w.state = worker;
  w.last_seen_mono_ms = NowMs();
  w.alive = true;
  // What it holds, as far as we know (after a coordinator restart: the
  // restored placements that name it).
  w.jobs.clear();
  for (const auto& [id, j] : jobs_) {
    if (Holds(j, worker.id)) w.jobs.insert(id);
  }
  Reconcile(worker.id, held, &events);
  return events;
}

StatusOr<std::vector<ClusterEvent>> Cluster::Heartbeat(const std::string& worker_id, const std::vector<HeldTask>& held) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || !it->second.alive) {
    return NotFoundError("worker " + worker_id + " is not registered; it must send a hello first");
  }
  it->second.last_seen_mono_ms = NowMs();
  std::vector<ClusterEvent> events;
  Reconcile(worker_id, held, &events);
  return events;
}

void Cluster::Reconcile(const std::string& worker_id, const std::vector<HeldTask>& held,
                        std::vector<ClusterEvent>* events) {
  std::set<std::pair<std::string, uint32_t>> listed;
  for (const HeldTask& h : held) {
    listed.insert({h.job_id, h.attempt});
    auto it = jobs_.find(h.job_id);
    const bool wanted = it != jobs_.end() && it->second.attempt == h.attempt && Holds(it->second, worker_id);
    if (wanted) {
      if (!h.finished && it->second.acked.insert(worker_id).second) dirty_.insert(h.job_id);
    } else if (!h.finished) {
      // Running something we do not want it to: stop it (again).
      events->push_back({ClusterEvent::kRevoked, h.job_id, worker_id, {}, h.attempt, 0,
                         "this worker does not hold attempt " + std::to_string(h.attempt) + " of " + h.job_id});
    }
  }
  const std::set<std::string> holds = workers_[worker_id].jobs;  // copy: LoseTask edits it
  for (const std::string& id : holds) {
    auto it = jobs_.find(id);
    if (it == jobs_.end() || !Holds(it->second, worker_id)) continue;
    JobRecord& j = it->second;
    WorkerRecord& w = workers_[worker_id];
    if (listed.count({id, j.attempt})) {
      w.unlisted.erase(id);
      continue;
    }
    if (j.acked.count(worker_id)) {
      w.unlisted.erase(id);
      LoseTask(j, worker_id, "the worker no longer runs its task (it restarted)", events);
    } else if (++w.unlisted[id] > options_.max_unlisted_heartbeats) {
      w.unlisted.erase(id);
      LoseTask(j, worker_id,
               "the worker did not take its assignment in " + std::to_string(options_.max_unlisted_heartbeats) +
                   " heartbeats",
               events);
    } else {
      events->push_back({ClusterEvent::kAssign, id, worker_id, {}, j.attempt, 0, ""});
    }
  }
  for (auto u = workers_[worker_id].unlisted.begin(); u != workers_[worker_id].unlisted.end();) {
    u = holds.count(u->first) ? std::next(u) : workers_[worker_id].unlisted.erase(u);  // no longer its job
  }
}

std::vector<ClusterEvent> Cluster::Leave(const std::string& worker_id) {
  std::vector<ClusterEvent> events;
  auto it = workers_.find(worker_id);
  if (it != workers_.end() && it->second.alive) LoseWorker(worker_id, "worker left", &events);
  return events;
}

void Cluster::LoseWorker(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events) {
  WorkerRecord& w = workers_[worker_id];
  w.alive = false;
  events->push_back({ClusterEvent::kWorkerDied, "", worker_id, {}, 0, 0, why});
  const std::set<std::string> held = w.jobs;
  for (const std::string& id : held) {
    auto it = jobs_.find(id);
    if (it != jobs_.end() && Holds(it->second, worker_id)) LoseTask(it->second, worker_id, why, events);
  }
  w.jobs.clear();
}

void Cluster::LoseTask(JobRecord& j, const std::string& worker_id, const std::string& why,
                       std::vector<ClusterEvent>* events) {
  // Elastic jobs go on without the lost worker: training survivors re-form
  // their group at the round (train/membership.h); serving keeps the others.
  if (IsElastic(j) && j.workers.size() > 1) {
    DropFromElastic(j, worker_id, why, events);
    return;
  }
  EndAttempt(j, "lost worker " + worker_id + " (" + why + ")", /*retry=*/true, 0, events);
}

void Cluster::ExpireAdoptions(std::vector<ClusterEvent>* events) {
  const int64_t now = NowMs();
  for (auto& [id, j] : jobs_) {
    if (j.adopt_deadline_mono_ms == 0 || j.state != JobState::kRunning) continue;
    bool all_back = true;
    for (const std::string& w : j.workers) {
      auto it = workers_.find(w);
      all_back = all_back && it != workers_.end() && it->second.alive;
    }
    if (all_back) {
      j.adopt_deadline_mono_ms = 0;
      continue;
    }
    if (now < j.adopt_deadline_mono_ms) continue;
    j.adopt_deadline_mono_ms = 0;
    const std::vector<std::string> placed = j.workers;
    for (const std::string& w : placed) {
      auto it = workers_.find(w);
      if ((it == workers_.end() || !it->second.alive) && Holds(j, w)) {
        LoseTask(j, w, "it did not come back after the coordinator restarted", events);
      }
    }
  }
}

JobDemand Cluster::DemandFor(const JobRecord& j) const {
  JobDemand d = DemandOf(j.spec, j.id, j.sequence);
  if (IsElastic(j) && j.removed > 0) d.workers = std::max<uint32_t>(1, d.workers > j.removed ? d.workers - j.removed : 1);
  if (excluded_) {
    for (const auto& [id, w] : workers_) {
      if (w.alive && excluded_(j, id)) d.exclude.insert(id);
    }
  }
  return d;
}

void Cluster::SetReputation(const std::string& worker_id, double reputation) {
  auto it = workers_.find(worker_id);
  if (it != workers_.end()) it->second.state.reputation = reputation;
}

std::vector<WorkerState> Cluster::FreeWorkers() const {
  std::vector<WorkerState> out;
  for (const auto& [id, w] : workers_) {
    if (!w.alive) continue;
    WorkerState s = w.state;
    uint32_t used = static_cast<uint32_t>(w.jobs.size());
    s.free_slots = s.free_slots > used ? s.free_slots - used : 0;
    out.push_back(s);
  }
  return out;
}

void Cluster::PlaceQueued(std::vector<ClusterEvent>* events, bool verification) {
  const int64_t now = NowMs();
  std::vector<JobDemand> queue;
  for (const auto& [id, j] : jobs_) {
    if (j.state == JobState::kQueued && j.not_before_mono_ms <= now && (j.spec.kind == JobKind::kVerify) == verification) {
      queue.push_back(DemandFor(j));
    }
  }
  if (queue.empty()) return;
  Placer placer(FreeWorkers());
  for (Assignment& a : placer.PlaceAll(std::move(queue))) {
    JobRecord& j = jobs_[a.job_id];
    j.state = JobState::kRunning;
    if (j.message.rfind("waiting", 0) == 0) j.message.clear();  // ExplainWaiting's
    ++j.attempt;
    j.workers = a.workers;
    j.uids.clear();
    for (uint32_t r = 0; r < a.workers.size(); ++r) j.uids.push_back(r);
    j.next_uid = j.initial_world = static_cast<uint32_t>(a.workers.size());
    j.finished.clear();
    j.acked.clear();
    j.synced = std::set<std::string>(a.workers.begin(), a.workers.end());  // they start from the same state
    j.attempt_resume_round = j.checkpoint_round;
    j.adopt_deadline_mono_ms = 0;
    for (const std::string& w : a.workers) workers_[w].jobs.insert(a.job_id);
    dirty_.insert(a.job_id);
    events->push_back({ClusterEvent::kPlaced, a.job_id, "", a.workers, j.attempt, j.checkpoint_round, ""});
  }
  if (!verification) ExplainWaiting();
}

void Cluster::ExplainWaiting() {
  // Per device: the connected workers, and (cuda) their GPU counts sorted.
  size_t cpu = 0;
  std::vector<uint32_t> gpus;
  for (const auto& [id, w] : workers_) {
    if (!w.alive || w.state.verify_only) continue;
    if (w.state.device == Device::kCuda) {
      gpus.push_back(w.state.gpus);
    } else {
      ++cpu;
    }
  }
  std::sort(gpus.begin(), gpus.end());
  for (auto& [id, j] : jobs_) {
    if (j.state != JobState::kQueued || j.spec.kind == JobKind::kVerify) continue;
    // A requeued job's message says what happened; only a plain wait is explained.
    if (!j.message.empty() && j.message.rfind("waiting", 0) != 0) continue;
    const JobDemand d = DemandOf(j.spec, j.id, j.sequence);
    const bool cuda = d.device == Device::kCuda;
    const size_t connected = cuda ? gpus.size() : cpu;
    const size_t fit = cuda ? static_cast<size_t>(gpus.end() - std::lower_bound(gpus.begin(), gpus.end(), d.gpus)) : cpu;
    std::string why;
    if (connected == 0) {
      why = std::string("waiting: no ") + (cuda ? "GPU (cuda)" : "CPU") + " worker is connected";
    } else if (fit == 0) {
      why = "waiting: no connected GPU worker has " + std::to_string(d.gpus) + " GPUs";
    } else {
      why = "waiting for " + std::to_string(d.workers) + " " + (cuda ? "cuda" : "cpu") +
            " worker(s) with a free slot that fit its filters (" + std::to_string(fit) + " connected)";
    }
    if (j.message != why) {
      j.message = std::move(why);
      dirty_.insert(id);
    }
  }
}

void Cluster::TopUpElasticJobs(std::vector<ClusterEvent>* events) {
  for (auto& [id, j] : jobs_) {
    if (j.state != JobState::kRunning || !IsElastic(j) || !j.finished.empty() || j.adopt_deadline_mono_ms != 0) continue;
    while (j.workers.size() < j.spec.workers) {
      // One at a time, never a worker the job already has.
      std::vector<WorkerState> free;
      for (WorkerState& w : FreeWorkers()) {
        if (std::find(j.workers.begin(), j.workers.end(), w.id) == j.workers.end()) free.push_back(std::move(w));
      }
      JobDemand d = DemandFor(j);
      d.workers = 1;
      Placer placer(std::move(free));
      auto chosen = placer.Place(d);
      if (!chosen.ok()) break;
      const std::string& w = chosen->front();
      j.workers.push_back(w);
      j.uids.push_back(j.next_uid);
      workers_[w].jobs.insert(id);
      dirty_.insert(id);
      j.message = "adding " + w + " to continue on " + std::to_string(j.workers.size()) + " worker(s)";
      ClusterEvent e{ClusterEvent::kJoined, id, w, {w}, j.attempt, 0, j.message};
      e.uid = j.next_uid++;
      events->push_back(e);
    }
  }
}

std::vector<ClusterEvent> Cluster::Tick() {
  std::vector<ClusterEvent> events;
  const int64_t deadline = NowMs() - options_.heartbeat_interval_ms * options_.liveness;
  for (auto& [id, w] : workers_) {
    if (w.alive && w.last_seen_mono_ms < deadline) {
      LoseWorker(id, "silent for " + std::to_string(NowMs() - w.last_seen_mono_ms) + " ms", &events);
    }
  }
  ExpireAdoptions(&events);
  PlaceQueued(&events, /*verification=*/false);
  // Queued jobs first; then running elastic jobs get back what they lost;
  // then replays of finished rounds (docs/verification.md) take what is left.
  TopUpElasticJobs(&events);
  PlaceQueued(&events, /*verification=*/true);
  return events;
}

StatusOr<TaskPlan> Cluster::PlanFor(const std::string& job_id, const std::string& worker_id) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  const JobRecord& j = it->second;
  auto w = std::find(j.workers.begin(), j.workers.end(), worker_id);
  if (j.state != JobState::kRunning || w == j.workers.end()) {
    return FailedPreconditionError("worker " + worker_id + " holds no task of " + job_id);
  }
  const size_t at = static_cast<size_t>(w - j.workers.begin());
  TaskPlan p;
  p.rank = at < j.uids.size() ? j.uids[at] : static_cast<uint32_t>(at);
  p.joining = p.rank >= j.initial_world;
  p.world = j.spec.kind == JobKind::kServe ? 1 : (p.joining ? std::max(j.spec.workers, 2u) : j.initial_world);
  if (j.spec.kind == JobKind::kServe) p.rank = 0, p.joining = false;
  p.resume_round = p.joining ? 0 : j.attempt_resume_round;
  return p;
}

std::set<std::string> Cluster::TakeDirty() {
  std::set<std::string> out;
  out.swap(dirty_);
  return out;
}

StatusOr<JobRecord> Cluster::Job(const std::string& id) const {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return NotFoundError("no job " + id);
  return it->second;
}

size_t Cluster::QueueDepth() const {
  size_t n = 0;
  for (const auto& [id, j] : jobs_) n += j.state == JobState::kQueued;
  return n;
}

}  // namespace cairn::scheduler
