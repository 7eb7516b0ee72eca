// What `cairn worker` does with a `kind: train` task: fetch the dataset's
// manifest and this rank's chunks, resume from the job's latest checkpoint
// when the coordinator says so, train (train/trainer.h), and after every
// round sign a stepReceipt with the worker's identity; rank 0 also uploads
// checkpoints (checkpointCommitted) and, at the end, the TorchScript model
// (modelRegistered, with its datasets as lineage). The coordinator checks
// each entry and appends it to the ledger.
// Thread safety: runs on the task's thread.
#ifndef CAIRN_WORKER_TRAIN_TASK_H_
#define CAIRN_WORKER_TRAIN_TASK_H_

#include <atomic>
#include <string>

#include "data/data_client.h"
#include "runtime/crypto/ed25519.h"
#include "worker/agent.h"

namespace cairn::worker {

struct TrainEnvironment {
  const Ed25519PrivateKey* identity = nullptr;
  std::string coordinator_host;  // where the bus, the HTTP port and the rendezvous store are
  int http_port = 7480;
  std::string cache_dir;         // content-addressed chunk cache
  int threads = 0;               // intra-op threads (0: all cores)
};

// The local address this machine uses to reach `host` (a connected UDP
// socket sends nothing): the address peers can reach this worker at (its Gloo
// device, its serving replica), which the host name may not resolve to
// (containers, network namespaces, several interfaces). "" if unknown.
std::string LocalAddressToward(const std::string& host);

// A registered model's TorchScript, looked up by name on the coordinator's
// HTTP port and fetched from the blob store (verified against its hash).
struct RegisteredModel {
  std::string hash;         // raw SHA-256 of the TorchScript bytes
  std::string torchscript;
};
StatusOr<RegisteredModel> FetchRegisteredModel(const TrainEnvironment& env, data::DataClient& client, const std::string& name);

StatusOr<std::string> RunTrainTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel,
                                   const worker::TaskIo& io, const TrainEnvironment& env);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_TRAIN_TASK_H_
