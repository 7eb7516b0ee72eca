// Cluster: the coordinator's control state as a pure state machine over an
// injected clock — workers and their liveness, the job queue, leases, and
// what happens when a worker vanishes. The coordinator process feeds it
// messages and the time, and carries out the events it returns; tests drive
// it with a FakeClock and no sockets.
//
// Liveness (Paranoid Pirate): a worker is dead once silent for
// heartbeat_interval x liveness (default 1 s x 3). Its leases are revoked on
// the next Tick, i.e. within 3 heartbeat intervals plus one tick. A job that
// loses a worker goes back to the queue to resume from its last checkpoint,
// up to its max_retries; then it fails.
//
// Job states: queued -> running -> succeeded | failed | cancelled
//             running -> queued (a worker was lost; attempt + 1)
// Thread safety: none; the coordinator calls it from its one event loop.
#ifndef CAIRN_SCHEDULER_CLUSTER_H_
#define CAIRN_SCHEDULER_CLUSTER_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "jobspec/job_spec.h"
#include "scheduler/placement.h"

namespace cairn::scheduler {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled };
const char* JobStateName(JobState s);

struct ClusterOptions {
  int64_t heartbeat_interval_ms = 1000;
  int liveness = 3;
};

struct JobRecord {
  std::string id;
  JobSpec spec;
  std::string submitter;
  uint64_t sequence = 0;
  JobState state = JobState::kQueued;
  uint32_t attempt = 0;          // 0 before the first placement
  uint32_t retries_used = 0;
  uint64_t checkpoint_round = 0;  // resume point
  std::vector<std::string> workers;  // current placement (elastic jobs: uids in `uids`)
  std::vector<uint32_t> uids;        // each worker's rank in the attempt (joiners: above the first placement's)
  uint32_t next_uid = 0;             // the uid the next joiner gets
  std::set<std::string> finished;    // workers whose task finished this attempt
  std::string message;               // why it failed / was requeued
  int64_t submitted_unix_ms = 0;
};

struct WorkerRecord {
  WorkerState state;            // free_slots = advertised slots (max tasks)
  int64_t last_seen_mono_ms = 0;
  bool alive = true;
  std::set<std::string> jobs;   // jobs it holds leases for
};

// What the coordinator must do after a Tick.
struct ClusterEvent {
  // kWorkerDropped: an elastic job lost a worker and goes on without it.
  // kJoined: a worker is added to a running elastic job that had lost some
  // (workers = {it}, uid its rank); it comes in at the next round boundary.
  enum Kind { kPlaced, kRevoked, kJobRequeued, kJobFailed, kWorkerDied, kWorkerDropped, kJoined } kind;
  std::string job_id;
  std::string worker_id;
  std::vector<std::string> workers;  // kPlaced: rank = position
  uint32_t attempt = 0;
  uint64_t resume_round = 0;
  std::string message;
  uint32_t uid = 0;  // kJoined
};

class Cluster {
 public:
  Cluster(const Clock* clock, ClusterOptions options) : clock_(clock), options_(options) {}

  // A worker joins, or rejoins with the same identity after a restart: it is
  // alive again, and whatever it held before is treated as lost (requeued).
  std::vector<ClusterEvent> Join(const WorkerState& worker);
  // Liveness; NotFound for a worker that never joined (it must say hello).
  Status Heartbeat(const std::string& worker_id);
  // A clean departure (Ctrl-C): leases handed back now, as if it had died.
  std::vector<ClusterEvent> Leave(const std::string& worker_id);

  // Queues a job under `id` (AlreadyExists if taken); an empty id picks
  // "<name>-<n>". Returns the id.
  StatusOr<std::string> Submit(const JobSpec& spec, const std::string& submitter, const std::string& id = "");
  // FailedPrecondition if the job already ended.
  Status Cancel(const std::string& job_id);
  // Restores a job after a coordinator restart. A job that was running is
  // queued again (its workers are unknown now); its attempt count is kept so
  // that stale reports from the old attempt are recognised.
  Status Restore(JobRecord job);
  // A worker reports its task for the current attempt done (or failed).
  // When every rank has succeeded the job succeeds; a failure fails it,
  // except in an elastic job that has other workers: it goes on without
  // the failed one.
  Status TaskFinished(const std::string& job_id, const std::string& worker_id, bool ok, const std::string& message);
  // A checkpoint at `round` was committed: a requeued job resumes there.
  Status CheckpointCommitted(const std::string& job_id, uint64_t round);

  // Expires silent workers (revoking their leases, requeueing or failing
  // their jobs), places queued jobs, then tops up running elastic training
  // jobs that lost workers with free ones (kJoined). Call at least once per
  // heartbeat interval.
  std::vector<ClusterEvent> Tick();

  const std::map<std::string, JobRecord>& jobs() const { return jobs_; }
  const std::map<std::string, WorkerRecord>& workers() const { return workers_; }
  StatusOr<JobRecord> Job(const std::string& id) const;
  size_t QueueDepth() const;

 private:
  int64_t NowMs() const { return clock_->MonotonicNanos() / 1'000'000; }
  void LoseWorker(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events);
  void RevokeJobsOf(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events);
  void ReleaseJob(JobRecord& job);
  void DropFromElastic(JobRecord& job, const std::string& worker_id, const std::string& why,
                       std::vector<ClusterEvent>* events);
  void TopUpElasticJobs(std::vector<ClusterEvent>* events);
  std::vector<WorkerState> FreeWorkers() const;

  const Clock* clock_;
  ClusterOptions options_;
  std::map<std::string, WorkerRecord> workers_;
  std::map<std::string, JobRecord> jobs_;
  std::map<std::string, uint64_t> name_counts_;
  uint64_t next_sequence_ = 1;
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_CLUSTER_H_
