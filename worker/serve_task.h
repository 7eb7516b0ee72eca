// What `cairn worker` does with a `kind: serve` task: fetch the registered
// model the spec names (its TorchScript blob, verified by hash), load it
// with LibTorch, answer inference requests on an HTTP port (serve/), tell
// the coordinator's gateway where (TaskServing), and serve until the lease
// is revoked or the job cancelled.
// Thread safety: runs on the task's thread.
#ifndef CAIRN_WORKER_SERVE_TASK_H_
#define CAIRN_WORKER_SERVE_TASK_H_

#include <atomic>
#include <string>

#include "worker/train_task.h"

namespace cairn::worker {

StatusOr<std::string> RunServeTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel,
                                   const worker::TaskIo& io, const TrainEnvironment& env);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_SERVE_TASK_H_
