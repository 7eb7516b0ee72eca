// Jobs: submission, cancellation, restore after a restart, task results and
// the end of an attempt (requeue or failure). Workers are in cluster.cc.
#include <algorithm>

#include "scheduler/cluster.h"

namespace cairn::scheduler {
namespace {

bool IsElastic(const JobRecord& j) {
  return (j.spec.kind == JobKind::kTrain && j.spec.strategy != Strategy::kSingle) || j.spec.kind == JobKind::kServe;
}

}  // namespace

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
  dirty_.insert(id);
  return id;
}

Status Cluster::Restore(JobRecord job) {
  if (jobs_.count(job.id)) return AlreadyExistsError("job " + job.id + " already exists");
  if (job.state == JobState::kRunning) {
    // Its workers are unknown until they say hello; they keep their tasks if
    // they come back in time (Join reconciles, Tick expires the rest).
    job.adopt_deadline_mono_ms = NowMs() + options_.adopt_grace_ms;
  }
  job.not_before_mono_ms = 0;
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
  job.uids.clear();
  job.finished.clear();
  job.acked.clear();
  job.synced.clear();
  job.adopt_deadline_mono_ms = 0;
  dirty_.insert(job.id);
}

StatusOr<std::vector<ClusterEvent>> Cluster::Stop(const std::string& job_id, JobState state, const std::string& why) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  if (j.state != JobState::kQueued && j.state != JobState::kRunning) {
    return FailedPreconditionError("job " + job_id + " already " + JobStateName(j.state));
  }
  std::vector<ClusterEvent> events;
  for (const std::string& w : j.workers) {
    if (!j.finished.count(w)) events.push_back({ClusterEvent::kRevoked, job_id, w, {}, j.attempt, 0, why});
  }
  ReleaseJob(j);
  j.state = state;
  j.message = state == JobState::kCancelled ? "cancelled" : why;
  return events;
}

StatusOr<std::vector<ClusterEvent>> Cluster::Cancel(const std::string& job_id) {
  return Stop(job_id, JobState::kCancelled, "job cancelled");
}

StatusOr<std::vector<ClusterEvent>> Cluster::Suspend(const std::string& job_id, const std::string& why) {
  return Stop(job_id, JobState::kExhausted, why);
}

Status Cluster::Resume(const std::string& job_id) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  if (j.state != JobState::kExhausted) {
    return FailedPreconditionError("job " + job_id + " is " + JobStateName(j.state) + ", not budget exhausted");
  }
  j.state = JobState::kQueued;
  j.not_before_mono_ms = 0;
  j.message = "resumed after a top-up";
  dirty_.insert(job_id);
  return OkStatus();
}

StatusOr<std::vector<ClusterEvent>> Cluster::TaskFinished(const std::string& job_id, const std::string& worker_id,
                                                          uint32_t attempt, const Status& result,
                                                          const std::string& message) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  std::vector<ClusterEvent> events;
  const bool placed = std::find(j.workers.begin(), j.workers.end(), worker_id) != j.workers.end();
  // Reports for another attempt, an ended job, or a worker already counted
  // or dropped change nothing: delivery is at least once.
  if (attempt != j.attempt || j.state != JobState::kRunning || j.finished.count(worker_id) || !placed) return events;
  if (!result.ok()) {
    const std::string why = "task failed on " + worker_id + ": " + message;
    if (IsElastic(j) && j.workers.size() > 1) {
      DropFromElastic(j, worker_id, "its task failed: " + message, &events);
      return events;
    }
    const bool retry = IsTransient(result.code());
    int64_t backoff = options_.retry_backoff_ms;
    for (uint32_t i = 0; i < j.retries_used && backoff < options_.max_retry_backoff_ms; ++i) backoff *= 2;
    EndAttempt(j, why, retry, std::min(backoff, options_.max_retry_backoff_ms), &events);
    return events;
  }
  j.finished.insert(worker_id);
  workers_[worker_id].jobs.erase(job_id);
  dirty_.insert(job_id);
  if (j.finished.size() == j.workers.size()) {
    ReleaseJob(j);
    j.state = JobState::kSucceeded;
    j.message = message;
  }
  return events;
}

void Cluster::EndAttempt(JobRecord& j, const std::string& why, bool retry, int64_t backoff_ms,
                         std::vector<ClusterEvent>* events) {
  // The whole gang stops: every other rank's lease is revoked too.
  for (const std::string& w : j.workers) {
    if (!j.finished.count(w)) events->push_back({ClusterEvent::kRevoked, j.id, w, {}, j.attempt, 0, why});
  }
  ReleaseJob(j);
  if (!retry) {
    j.state = JobState::kFailed;
    j.message = why;
    events->push_back({ClusterEvent::kJobFailed, j.id, "", {}, j.attempt, 0, j.message});
  } else if (j.retries_used >= j.spec.max_retries) {
    j.state = JobState::kFailed;
    j.message = why + " after " + std::to_string(j.retries_used) + " retries";
    events->push_back({ClusterEvent::kJobFailed, j.id, "", {}, j.attempt, 0, j.message});
  } else {
    ++j.retries_used;
    j.state = JobState::kQueued;
    j.not_before_mono_ms = NowMs() + backoff_ms;
    j.message = "requeued (retry " + std::to_string(j.retries_used) + " of " + std::to_string(j.spec.max_retries) +
                (backoff_ms > 0 ? ", in " + std::to_string(backoff_ms) + " ms" : std::string()) + "): " + why;
    events->push_back({ClusterEvent::kJobRequeued, j.id, "", {}, j.attempt, j.checkpoint_round, j.message});
  }
}

void Cluster::DropFromElastic(JobRecord& j, const std::string& worker_id, const std::string& why,
                              std::vector<ClusterEvent>* events) {
  auto lost = std::find(j.workers.begin(), j.workers.end(), worker_id);
  if (lost == j.workers.end()) return;
  const size_t at = static_cast<size_t>(lost - j.workers.begin());
  j.workers.erase(lost);
  const uint32_t uid = at < j.uids.size() ? j.uids[at] : 0;
  if (at < j.uids.size()) j.uids.erase(j.uids.begin() + static_cast<std::ptrdiff_t>(at));
  j.finished.erase(worker_id);
  j.acked.erase(worker_id);
  j.synced.erase(worker_id);
  workers_[worker_id].jobs.erase(j.id);
  dirty_.insert(j.id);
  j.message = "continuing on " + std::to_string(j.workers.size()) + " worker(s): lost " + worker_id + " (" + why + ")";
  ClusterEvent dropped{ClusterEvent::kWorkerDropped, j.id, worker_id, {}, j.attempt, 0, j.message};
  dropped.uid = uid;
  events->push_back(dropped);
  events->push_back({ClusterEvent::kRevoked, j.id, worker_id, {}, j.attempt, 0, why});
  const bool state_left = std::any_of(j.workers.begin(), j.workers.end(), [&](const std::string& w) { return j.synced.count(w); });
  if (j.spec.kind == JobKind::kTrain && j.finished.empty() && !state_left) {
    // Only joiners are left, and none got in: nobody can hand them the
    // state. The attempt ends; the job resumes from its last checkpoint.
    EndAttempt(j, "no worker left holds the job's state (lost " + worker_id + ": " + why + ")", /*retry=*/true, 0, events);
    return;
  }
  if (!j.finished.empty() && j.finished.size() == j.workers.size()) {
    ReleaseJob(j);
    j.state = JobState::kSucceeded;
  }
}

StatusOr<std::vector<ClusterEvent>> Cluster::RemoveForFraud(const std::string& job_id, const std::string& worker_id,
                                                             uint64_t resume_round, const std::string& why) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  JobRecord& j = it->second;
  std::vector<ClusterEvent> events;
  if (j.state != JobState::kQueued && j.state != JobState::kRunning) return events;
  ++j.removed;
  j.checkpoint_round = std::min(j.checkpoint_round, resume_round);
  j.redo_floor = j.attempt + 1;
  dirty_.insert(job_id);
  if (j.state == JobState::kQueued) return events;
  for (const std::string& w : j.workers) {
    if (!j.finished.count(w)) events.push_back({ClusterEvent::kRevoked, job_id, w, {}, j.attempt, 0, why});
  }
  ReleaseJob(j);
  j.state = JobState::kQueued;
  j.not_before_mono_ms = 0;
  j.message = "redoing from round " + std::to_string(j.checkpoint_round) + " without " + worker_id + ": " + why;
  events.push_back({ClusterEvent::kJobRequeued, job_id, worker_id, {}, j.attempt, j.checkpoint_round, j.message});
  return events;
}

void Cluster::HoldsState(const std::string& job_id, const std::string& worker_id, uint32_t attempt) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.attempt != attempt || it->second.state != JobState::kRunning) return;
  JobRecord& j = it->second;
  if (std::find(j.workers.begin(), j.workers.end(), worker_id) == j.workers.end()) return;
  if (j.synced.insert(worker_id).second) dirty_.insert(job_id);
}

Status Cluster::CheckpointCommitted(const std::string& job_id, uint64_t round, uint32_t attempt) {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return NotFoundError("no job " + job_id);
  if (attempt < it->second.redo_floor) return OkStatus();  // from before a redo: it may hold a cheater's work
  if (round > it->second.checkpoint_round) {
    it->second.checkpoint_round = round;
    dirty_.insert(job_id);
  }
  return OkStatus();
}

}  // namespace cairn::scheduler
