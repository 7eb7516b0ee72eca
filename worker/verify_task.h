// What a worker does with a `kind: verify` task (docs/verification.md): it
// replays another worker's challenged round and signs a verdict.
//  1. The round's ledger entries (receipt, acceptance, the submission and
//     the seat's previous acceptance or placement) are read from the
//     coordinator's read API and validated (signatures) here: nothing the
//     coordinator says is taken on trust; the spec must hash to the
//     submission's specHash.
//  2. Timestamps: the receipt's round may not start before the seat's
//     jobPlaced or before the worker's own previous round ended, nor end
//     after the coordinator received it (5 s of clock skew), else "fail".
//  3. The challenged worker has target.answer_seconds to disclose the state
//     and step chain it committed to (content-addressed blobs); if it does
//     not, "fail".
//  4. Another determinism profile than the receipt's: "not comparable".
//  5. The replay (train/trainer.h ReplayRound): the disclosed state must be
//     the round's starting state (fingerprintBefore, and the optimizer state
//     the worker's previous receipt committed to); the step chain is compared
//     link by link and the first diverging step recorded; then the update
//     and the optimizer state. Any difference: "fail" with the step.
// The verdict goes through the outbox like a receipt.
// Thread safety: runs on the task's thread.
#ifndef CAIRN_WORKER_VERIFY_TASK_H_
#define CAIRN_WORKER_VERIFY_TASK_H_

#include "worker/task_runner.h"

namespace cairn::worker {

StatusOr<std::string> RunVerifyTask(const TaskContext& context);

// Clock skew allowed between a worker's receipt and the operator's entries.
inline constexpr int64_t kReceiptSkewMs = 5000;

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_VERIFY_TASK_H_
