// What a worker does with a `kind: serve` task: fetch the registered model
// the spec names (its TorchScript blob, verified by hash), load it with
// LibTorch, answer inference requests on an HTTP port (serve/), tell the
// coordinator's gateway where (TaskServing, and in every heartbeat), and
// serve until the lease is revoked or the job cancelled.
// Thread safety: runs on the task's thread.
#ifndef CAIRN_WORKER_SERVE_TASK_H_
#define CAIRN_WORKER_SERVE_TASK_H_

#include "worker/task_runner.h"

namespace cairn::worker {

StatusOr<std::string> RunServeTask(const TaskContext& context);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_SERVE_TASK_H_
