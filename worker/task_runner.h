// What a worker does with an assigned task: its spec is parsed once, here,
// and the task runs by kind — train (worker/train_task.h), serve
// (worker/serve_task.h) or benchmark (a fixed matmul workload). Errors keep
// their codes (the scheduler retries Unavailable, DeadlineExceeded and
// Aborted, and fails fast on the rest); the agent's exception barrier turns
// anything thrown into Internal.
// Thread safety: RunTask runs on the task's own thread.
#ifndef CAIRN_WORKER_TASK_RUNNER_H_
#define CAIRN_WORKER_TASK_RUNNER_H_

#include <atomic>
#include <string>

#include "jobspec/job_spec.h"
#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "worker/agent.h"
#include "train/trainer.h"
#include "worker/coordinator_http.h"
#include "worker/replay_store.h"

namespace cairn::worker {

// What tasks need from the worker that runs them.
struct WorkerEnvironment {
  const Ed25519PrivateKey* identity = nullptr;  // signs receipts; outlives every task
  const Clock* clock = Clock::System();
  std::string coordinator_host;     // the coordinator's bus and HTTP host
  int http_port = 7480;
  std::string cache_dir;            // content-addressed chunk cache
  int threads = 0;                  // intra-op threads (0: all cores)
  bool cuda = false;                // the worker offers CUDA devices
  int64_t http_retry_budget_ms = 60'000;  // how long coordinator HTTP reads are retried
  ReplayStore* replay = nullptr;    // rounds kept for challenges (docs/verification.md); outlives every task
  std::string profile;              // this worker's determinism profile (train/profile.h)
  train::Misbehave misbehave = train::Misbehave::kNone;  // tests only: CAIRN_TEST_MISBEHAVE

  CoordinatorHttpOptions Http() const {
    return CoordinatorHttpOptions{coordinator_host, http_port, cache_dir, clock, http_retry_budget_ms};
  }
};

// One task as the kind-specific runners see it.
struct TaskContext {
  const wire::TaskAssign& task;
  const jobspec::JobSpec& spec;     // parsed from task.spec, once
  const std::atomic<bool>& cancel;
  const TaskIo& io;
  const WorkerEnvironment& env;
};

StatusOr<std::string> RunTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel, const TaskIo& io,
                              const WorkerEnvironment& env);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_TASK_RUNNER_H_
