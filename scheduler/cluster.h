// Cluster: the coordinator's control state as a pure state machine over an
// injected clock — workers and their liveness, the job queue, leases,
// reconciliation of what workers run against what they were assigned, and
// what happens when a worker or a task is lost. The coordinator feeds it
// messages and the time, and carries out the events it returns; tests drive
// it with a FakeClock and no sockets.
//
// Liveness (Paranoid Pirate): a worker is dead once silent for
// heartbeat_interval x liveness (default 1 s x 3). Its leases are revoked on
// the next Tick. A job that loses a worker goes on without it if it is
// elastic (multi-worker training, serving) and has others; otherwise it goes
// back to the queue to resume from its last checkpoint, up to max_retries;
// then it fails.
//
// Reconciliation (level-triggered, as Kubernetes controllers): every hello
// and heartbeat lists what the worker holds. An assignment the worker does
// not list yet is sent again (kAssign) until it does; once listed it is
// "acked", and an acked task the worker stops listing was lost (the worker
// restarted): handled as a lost worker for that job. A listed task the
// worker should not run is revoked again (kRevoked).
//
// Task results carry a StatusCode: a failure with a transient code
// (Unavailable, DeadlineExceeded, Aborted) is retried within max_retries
// after a backoff (retry_backoff_ms doubling, capped); any other code fails
// the job at once with the task's message.
//
// A coordinator restart re-adopts running jobs (Restore): their workers
// have adopt_grace_ms to say hello again listing the task; whoever does not
// is treated as lost.
//
// Job states: queued -> running -> succeeded | failed | cancelled
//             running -> queued (a worker was lost, or a transient failure; attempt + 1)
//             queued | running -> budget exhausted (Suspend) -> queued (Resume, after a top-up;
//                                 it resumes from its last checkpoint)
// Thread safety: none; the coordinator calls it from its one event loop.
#ifndef CAIRN_SCHEDULER_CLUSTER_H_
#define CAIRN_SCHEDULER_CLUSTER_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "jobspec/job_spec.h"
#include "runtime/base/clock.h"
#include "runtime/base/status.h"
#include "scheduler/placement.h"

namespace cairn::scheduler {

enum class JobState { kQueued, kRunning, kSucceeded, kFailed, kCancelled, kExhausted };
const char* JobStateName(JobState s);
// The codes a task may fail with and be retried: the retry is expected to help.
bool IsTransient(StatusCode code);

struct ClusterOptions {
  int64_t heartbeat_interval_ms = 1000;
  int liveness = 3;
  int64_t adopt_grace_ms = 15'000;     // after a coordinator restart
  int64_t retry_backoff_ms = 1000;     // first retry after a transient failure; doubles
  int64_t max_retry_backoff_ms = 30'000;
  // Heartbeats a worker may leave an assignment it was sent unlisted before
  // the task counts as lost (it will not take it: the job moves on).
  int max_unlisted_heartbeats = 30;
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
  uint64_t attempt_resume_round = 0;  // where the current attempt started
  std::vector<std::string> workers;  // current placement (elastic jobs: uids in `uids`)
  std::vector<uint32_t> uids;        // each worker's rank in the attempt (joiners: above the first placement's)
  uint32_t next_uid = 0;             // the uid the next joiner gets
  uint32_t initial_world = 0;        // ranks of the attempt's placement; uids from here on joined later
  std::set<std::string> finished;    // workers whose task finished this attempt
  std::set<std::string> acked;       // workers that listed this attempt's task in a heartbeat
  std::set<std::string> synced;      // workers known to hold the job's state (placed ones; joiners once a receipt came)
  std::string message;               // why it failed / was requeued
  int64_t submitted_unix_ms = 0;
  int64_t not_before_mono_ms = 0;    // a retry waits for its backoff
  int64_t adopt_deadline_mono_ms = 0;  // restored: workers not back by then are lost
  uint32_t removed = 0;              // workers a failing verdict removed: an elastic job restarts with fewer
  uint32_t redo_floor = 0;           // checkpoints of attempts below this are ignored (a redo after a failing verdict)
};

struct WorkerRecord {
  WorkerState state;            // free_slots = advertised slots (max tasks)
  int64_t last_seen_mono_ms = 0;
  bool alive = true;
  std::set<std::string> jobs;   // jobs it holds leases for
  std::map<std::string, int> unlisted;  // job -> heartbeats since its assignment was first resent
};

// What a worker says it holds (hello, heartbeat).
struct HeldTask {
  std::string job_id;
  uint32_t attempt = 0;
  bool finished = false;  // ended; the result is on its way
};

// How a worker runs its part of a job's current attempt.
struct TaskPlan {
  uint32_t rank = 0, world = 1;  // joiners: rank is its uid (>= world)
  bool joining = false;
  uint64_t resume_round = 0;
};

// What the coordinator must do.
struct ClusterEvent {
  // kPlaced: an attempt starts on `workers` (rank = position): record it,
  //   then assign each. kJoined: `worker_id` is added to a running elastic
  //   job (uid `uid`); record it, then assign it.
  // kAssign: (re)send `worker_id` its assignment for `job_id` / `attempt`.
  // kRevoked: tell `worker_id` to stop `job_id` / `attempt`.
  // kWorkerDropped: an elastic job goes on without `worker_id` (uid `uid`).
  enum Kind { kPlaced, kRevoked, kJobRequeued, kJobFailed, kWorkerDied, kWorkerDropped, kJoined, kAssign } kind;
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

  // A worker (re)registers, listing what it holds: it is alive again and
  // its leases are reconciled against `held`.
  std::vector<ClusterEvent> Join(const WorkerState& worker, const std::vector<HeldTask>& held = {});
  // Liveness and reconciliation. NotFound for a worker that never joined
  // (it must say hello).
  StatusOr<std::vector<ClusterEvent>> Heartbeat(const std::string& worker_id, const std::vector<HeldTask>& held = {});
  // A clean departure (Ctrl-C): leases handed back now, as if it had died.
  std::vector<ClusterEvent> Leave(const std::string& worker_id);

  // Queues a job under `id` (AlreadyExists if taken); an empty id picks
  // "<name>-<n>". Returns the id.
  StatusOr<std::string> Submit(const JobSpec& spec, const std::string& submitter, const std::string& id = "");
  // FailedPrecondition if the job already ended. Revokes its tasks.
  StatusOr<std::vector<ClusterEvent>> Cancel(const std::string& job_id);
  // The job's escrow cannot pay another round: revokes its tasks and
  // leaves it "budget exhausted" until Resume. FailedPrecondition if it ended.
  StatusOr<std::vector<ClusterEvent>> Suspend(const std::string& job_id, const std::string& why);
  // A budget-exhausted job goes back to the queue (its next attempt resumes
  // from its checkpoint). FailedPrecondition for a job in any other state.
  Status Resume(const std::string& job_id);
  // Restores a job after a coordinator restart. A running job stays running
  // on its workers, which have adopt_grace_ms to come back.
  Status Restore(JobRecord job);
  // A worker reports how its task of `attempt` ended. Idempotent: a report
  // for another attempt, an ended job, or a worker already counted or no
  // longer placed changes nothing (the caller checks, from the ledger, that
  // the worker was ever placed on the job).
  StatusOr<std::vector<ClusterEvent>> TaskFinished(const std::string& job_id, const std::string& worker_id,
                                                   uint32_t attempt, const Status& result, const std::string& message);
  // A checkpoint at `round` was committed: a requeued job resumes there.
  // A checkpoint of an attempt before a redo (RemoveForFraud) is ignored:
  // it may hold the removed worker's updates.
  Status CheckpointCommitted(const std::string& job_id, uint64_t round, uint32_t attempt);
  // `worker_id` signed a receipt for the current attempt: it holds the job's
  // state (a joiner that got in). An elastic training job whose remaining
  // workers hold none ends the attempt (and resumes from its checkpoint).
  void HoldsState(const std::string& job_id, const std::string& worker_id, uint32_t attempt);

  // A failing verdict (docs/verification.md): `worker_id` leaves the job for
  // good (the exclusion callback keeps it out), and a job still running is
  // redone from `resume_round` (a checkpoint before the round it cheated
  // in): every task is revoked and the job requeued at once, without
  // spending a retry; an elastic job may restart on fewer workers and is
  // topped up later. NotFound for an unknown job; nothing for an ended one.
  StatusOr<std::vector<ClusterEvent>> RemoveForFraud(const std::string& job_id, const std::string& worker_id,
                                                     uint64_t resume_round, const std::string& why);
  // Whether `worker_id` may not run (a part of) `job`: placement asks for
  // every candidate. Set once, before the first Tick.
  void SetExclusion(std::function<bool(const JobRecord& job, const std::string& worker_id)> excluded) {
    excluded_ = std::move(excluded);
  }
  // The ledger's view of a worker (placement scores weigh it).
  void SetReputation(const std::string& worker_id, double reputation);

  // Expires silent workers and unadopted restored tasks, places queued jobs
  // (whose backoff passed), then tops up running elastic training jobs that
  // lost workers with free ones (kJoined), then places verification tasks
  // on what is left. Call at least once per heartbeat
  // interval.
  std::vector<ClusterEvent> Tick();

  // The assignment `worker_id` gets for `job_id`'s current attempt.
  StatusOr<TaskPlan> PlanFor(const std::string& job_id, const std::string& worker_id) const;
  // Jobs changed since the last call (for the coordinator to persist).
  std::set<std::string> TakeDirty();

  const std::map<std::string, JobRecord>& jobs() const { return jobs_; }
  const std::map<std::string, WorkerRecord>& workers() const { return workers_; }
  StatusOr<JobRecord> Job(const std::string& id) const;
  size_t QueueDepth() const;

  // Alive workers with their free slots now (what placement chooses from).
  std::vector<WorkerState> FreeWorkers() const;

 private:
  int64_t NowMs() const { return clock_->MonotonicNanos() / 1'000'000; }
  void Reconcile(const std::string& worker_id, const std::vector<HeldTask>& held, std::vector<ClusterEvent>* events);
  void LoseWorker(const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events);
  // `worker_id` no longer runs its part of `job`: elastic jobs go on
  // without it, others end the attempt (requeue or fail).
  void LoseTask(JobRecord& job, const std::string& worker_id, const std::string& why, std::vector<ClusterEvent>* events);
  // Ends the current attempt: revokes every worker's task, then requeues
  // (after `backoff_ms`) while retries remain, else fails with `why`.
  void EndAttempt(JobRecord& job, const std::string& why, bool retry, int64_t backoff_ms, std::vector<ClusterEvent>* events);
  void ReleaseJob(JobRecord& job);
  // Revokes a queued or running job's tasks and leaves it in `state`.
  StatusOr<std::vector<ClusterEvent>> Stop(const std::string& job_id, JobState state, const std::string& why);
  void DropFromElastic(JobRecord& job, const std::string& worker_id, const std::string& why,
                       std::vector<ClusterEvent>* events);
  void ExpireAdoptions(std::vector<ClusterEvent>* events);
  // Places queued jobs: verification tasks, or everything else.
  void PlaceQueued(std::vector<ClusterEvent>* events, bool verification);
  // Sets a queued job's message to why it waits (no worker of its device
  // connected, none with enough GPUs, or none free), for `cairn status`.
  void ExplainWaiting();
  void TopUpElasticJobs(std::vector<ClusterEvent>* events);
  // The demand `j` places with, its excluded workers filled in.
  JobDemand DemandFor(const JobRecord& j) const;

  const Clock* clock_;
  ClusterOptions options_;
  std::map<std::string, WorkerRecord> workers_;
  std::map<std::string, JobRecord> jobs_;
  std::map<std::string, uint64_t> name_counts_;
  std::set<std::string> dirty_;
  uint64_t next_sequence_ = 1;
  std::function<bool(const JobRecord&, const std::string&)> excluded_;
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_CLUSTER_H_
