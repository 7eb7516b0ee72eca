#include "scheduler/cluster.h"

#include <algorithm>

namespace cairn::scheduler {
namespace {
// Elastic jobs lose and gain workers without a restart: multi-worker
// training (ddp, diloco) and serving (each worker is an independent replica).
bool IsElastic(const JobRecord& j) {
  return (j.spec.kind == JobKind::kTrain && j.spec.strategy != Strategy::kSingle) || j.spec.kind == JobKind::kServe;
}
}  // namespace

const char* JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued: return "queued";
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::vector<ClusterEvent> Cluster::Join(const WorkerState& worker) {
  std::vector<ClusterEvent> events;
  auto it = workers_.find(worker.id);
  if (it != workers_.end() && !it->second.jobs.empty()) RevokeJobsOf(worker.id, "worker restarted", &events);
  workers_[worker.id] = WorkerRecord{worker, NowMs(), true, {}};
  return events;
}

Status Cluster::Heartbeat(const std::string& worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || !it->second.alive) {
    return NotFoundError("worker " + worker_id + " is not registered; it must send a hello first");
  }
  it->second.last_seen_mono_ms = NowMs();
  return OkStatus();
}

std::vector<ClusterEvent> Cluster::Leave(const std::string& worker_id) {
  std::vector<ClusterEvent> events;
  if (workers_.count(worker_id) && workers_[worker_id].alive) LoseWorker(worker_id, "worker left", &events);
  return events;
}

StatusOr<std::string> Cluster::Submit(const JobSpec& spec, const std::string& submitter, const std::string& given_id) {
  std::string id = given_id.empty() ? spec.name + "-" + std::to_string(++name_counts_[spec.name]) : given_id;
  if (jobs_.count(id)) return AlreadyExistsError("job " + id + " already exists");
  JobRecord j;
  j.id = id;
  j.spec = spec;
  j.submitter = submitter;
  j.sequence = next_sequence_++;
  j.submitted_unix_ms = clock_->NowUnixMillis();
  jobs_[id] = std::move(j);
  return id;
}

Status Cluster::Restore(JobRecord job) {
  if (jobs_.count(job.id)) return AlreadyExistsError("job " + job.id + " already exists");
  if (job.state == JobState::kRunning) {
    job.state = JobState::kQueued;
    job.message = "requeued: the coordinator restarted";
  }
  job.workers.clear();
  job.finished.clear();
  next_sequence_ = std::max(next_sequence_, job.sequence + 1);
  jobs_[job.id] = std::move(job);
  return OkStatus();
}

void Cluster::ReleaseJob(JobRecord& job) {
  for (const std::string& w : job.workers) {
    auto it = workers_.find(w);
    if (it != workers_.end()) it->second.jobs.erase(job.id);
  }
  job.workers.clear();
  job.finished.clear();
}

Status Cluster::Cancel(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  if (j.state != JobState::kQueued && j.state != JobState::kRunning) {
    return FailedPreconditionError("job " + job_id + " already " + JobStateName(j.state));
  }
  ReleaseJob(j);
  j.state = JobState::kCancelled;
  j.message = "cancelled";
  return OkStatus();
}

Status Cluster::TaskFinished(const std::string& job_id, const std::string& worker_id, bool ok,
                             const std::string& message) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  if (j.state != JobState::kRunning) {
    return FailedPreconditionError("job " + job_id + " is " + JobStateName(j.state) + ", not running");
  }
  if (std::find(j.workers.begin(), j.workers.end(), worker_id) == j.workers.end()) {
    return PermissionDeniedError("worker " + worker_id + " holds no lease on job " + job_id);
  }
  if (!ok && IsElastic(j) && j.workers.size() > 1) {
    std::vector<ClusterEvent> ignored;  // the caller logs the task's own message
    DropFromElastic(j, worker_id, "its task failed: " + message, &ignored);
    return OkStatus();
  }
  if (!ok) {
    ReleaseJob(j);
    j.state = JobState::kFailed;
    j.message = "task failed on " + worker_id + ": " + message;
    return OkStatus();
  }
  j.finished.insert(worker_id);
  workers_[worker_id].jobs.erase(job_id);
  if (j.finished.size() == j.workers.size()) {
    ReleaseJob(j);
    j.state = JobState::kSucceeded;
    j.message = message;
  }
  return OkStatus();
}

Status Cluster::CheckpointCommitted(const std::string& job_id, uint64_t round) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  it->second.checkpoint_round = std::max(it->second.checkpoint_round, round);
  return OkStatus();
}

void Cluster::LoseWorker(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events) {
  workers_[worker_id].alive = false;
  events->push_back({ClusterEvent::kWorkerDied, "", worker_id, {}, 0, 0, why});
  RevokeJobsOf(worker_id, why, events);
}

void Cluster::RevokeJobsOf(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events) {
  WorkerRecord& w = workers_[worker_id];
  std::set<std::string> held = std::move(w.jobs);
  w.jobs.clear();
  for (const std::string& job_id : held) {
    JobRecord& j = jobs_[job_id];
    if (j.state != JobState::kRunning) continue;
    // Elastic training (ddp, diloco) goes on without the lost worker: the
    // survivors re-form their group at the round (train/membership.h).
    if (IsElastic(j) && j.workers.size() > 1 &&
        std::find(j.workers.begin(), j.workers.end(), worker_id) != j.workers.end()) {
      DropFromElastic(j, worker_id, why, events);
      continue;
    }
    // The whole gang stops: the others' leases are revoked too.
    for (const std::string& other : j.workers) {
      events->push_back({ClusterEvent::kRevoked, job_id, other, {}, j.attempt, 0, why});
    }
    ReleaseJob(j);
    if (j.retries_used >= j.spec.max_retries) {
      j.state = JobState::kFailed;
      j.message = "lost worker " + worker_id + " (" + why + ") after " + std::to_string(j.retries_used) + " retries";
      events->push_back({ClusterEvent::kJobFailed, job_id, worker_id, {}, j.attempt, 0, j.message});
    } else {
      ++j.retries_used;
      j.state = JobState::kQueued;
      j.message = "requeued: lost worker " + worker_id + " (" + why + ")";
      events->push_back({ClusterEvent::kJobRequeued, job_id, worker_id, {}, j.attempt, j.checkpoint_round, j.message});
    }
  }
}

void Cluster::DropFromElastic(JobRecord& j, const std::string& worker_id, const std::string& why,
                              std::vector<ClusterEvent>* events) {
  auto lost = std::find(j.workers.begin(), j.workers.end(), worker_id);
  if (lost == j.workers.end()) return;
  const size_t at = static_cast<size_t>(lost - j.workers.begin());
  j.workers.erase(lost);
  if (at < j.uids.size()) j.uids.erase(j.uids.begin() + static_cast<std::ptrdiff_t>(at));
  j.finished.erase(worker_id);
  workers_[worker_id].jobs.erase(j.id);
  j.message = "continuing on " + std::to_string(j.workers.size()) + " worker(s): lost " + worker_id + " (" + why + ")";
  events->push_back({ClusterEvent::kWorkerDropped, j.id, worker_id, {}, j.attempt, 0, j.message});
  if (!j.finished.empty() && j.finished.size() == j.workers.size()) {
    ReleaseJob(j);
    j.state = JobState::kSucceeded;
  }
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

void Cluster::TopUpElasticJobs(std::vector<ClusterEvent>* events) {
  for (auto& [id, j] : jobs_) {
    if (j.state != JobState::kRunning || !IsElastic(j) || !j.finished.empty()) continue;
    while (j.workers.size() < j.spec.workers) {
      // One at a time, never a worker the job already has.
      std::vector<WorkerState> free;
      for (WorkerState& w : FreeWorkers()) {
        if (std::find(j.workers.begin(), j.workers.end(), w.id) == j.workers.end()) free.push_back(std::move(w));
      }
      JobDemand d = DemandOf(j.spec, id, j.sequence);
      d.workers = 1;
      Placer placer(std::move(free));
      auto chosen = placer.Place(d);
      if (!chosen.ok()) break;
      const std::string& w = chosen->front();
      j.workers.push_back(w);
      j.uids.push_back(j.next_uid);
      workers_[w].jobs.insert(id);
      j.message = "adding " + w + " to continue on " + std::to_string(j.workers.size()) + " worker(s)";
      ClusterEvent e{ClusterEvent::kJoined, id, w, {w}, j.attempt, 0, j.message};
      e.uid = j.next_uid++;
      events->push_back(e);
    }
  }
}

std::vector<ClusterEvent> Cluster::Tick() {
  std::vector<ClusterEvent> events;
  int64_t deadline = NowMs() - options_.heartbeat_interval_ms * options_.liveness;
  for (auto& [id, w] : workers_) {
    if (w.alive && w.last_seen_mono_ms < deadline) {
      LoseWorker(id, "silent for " + std::to_string(NowMs() - w.last_seen_mono_ms) + " ms", &events);
    }
  }
  std::vector<JobDemand> queue;
  for (const auto& [id, j] : jobs_) {
    if (j.state == JobState::kQueued) queue.push_back(DemandOf(j.spec, id, j.sequence));
  }
  Placer placer(FreeWorkers());
  for (Assignment& a : placer.PlaceAll(std::move(queue))) {
    JobRecord& j = jobs_[a.job_id];
    j.state = JobState::kRunning;
    ++j.attempt;
    j.workers = a.workers;
    j.uids.clear();
    for (uint32_t r = 0; r < a.workers.size(); ++r) j.uids.push_back(r);
    j.next_uid = static_cast<uint32_t>(a.workers.size());
    j.finished.clear();
    for (const std::string& w : a.workers) workers_[w].jobs.insert(a.job_id);
    events.push_back({ClusterEvent::kPlaced, a.job_id, "", a.workers, j.attempt, j.checkpoint_round, ""});
  }
  // Queued jobs first; then running elastic jobs get back what they lost.
  TopUpElasticJobs(&events);
  return events;
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
