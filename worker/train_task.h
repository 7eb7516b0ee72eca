// What a worker does with a `kind: train` task: fetch the dataset's manifest
// and this rank's chunks, resume from the job's latest checkpoint when the
// coordinator says so, train (train/trainer.h), and after every round sign a
// stepReceipt; rank 0 also signs a checkpointCommitted per checkpoint and,
// at the end, the leader a modelRegistered with its lineage
// (worker/receipts.h). Entries go through the worker's durable outbox with
// the blob they name (checkpoint bytes, the TorchScript model) attached:
// the blob is uploaded and the entry delivered in the background, so
// training never waits on the coordinator.
// Thread safety: runs on the task's thread.
#ifndef CAIRN_WORKER_TRAIN_TASK_H_
#define CAIRN_WORKER_TRAIN_TASK_H_

#include "worker/task_runner.h"

namespace cairn::worker {

StatusOr<std::string> RunTrainTask(const TaskContext& context);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_TRAIN_TASK_H_
