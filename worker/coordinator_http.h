// CoordinatorHttp: everything a worker asks the coordinator's HTTP port for,
// in one client: dataset manifests and chunks, blobs (checkpoints, models,
// uploaded TorchScript), a job's latest checkpoint and a registered model.
// Every fetched blob is verified against its hash; reads that fail with
// Unavailable are retried for `retry_budget_ms` (data/data_client.h), so a
// coordinator restart or a network blip costs a task nothing; past the
// budget the Unavailable error is returned and the scheduler retries the
// job (a transient code).
// Thread safety: one CoordinatorHttp per thread (it holds a connection).
#ifndef CAIRN_WORKER_COORDINATOR_HTTP_H_
#define CAIRN_WORKER_COORDINATOR_HTTP_H_

#include <string>

#include "data/data_client.h"
#include "runtime/base/clock.h"
#include "runtime/crypto/sha256.h"

namespace cairn::worker {

struct CoordinatorHttpOptions {
  std::string host;              // where the coordinator's HTTP port is
  int port = 7480;
  std::string cache_dir;         // content-addressed chunk cache ("" none)
  const Clock* clock = Clock::System();
  int64_t retry_budget_ms = 60'000;
};

// A registered model's TorchScript (verified against its hash).
struct RegisteredModel {
  Sha256Digest hash{};
  std::string torchscript;
};

class CoordinatorHttp {
 public:
  explicit CoordinatorHttp(const CoordinatorHttpOptions& options);

  data::DataClient& data() { return data_; }
  // The blob of job `job_id`'s checkpoint of `round` (the resume point the
  // coordinator planned). NotFound if the ledger holds none for that round.
  StatusOr<std::string> Checkpoint(const std::string& job_id, uint64_t round);
  // The model registered under `name`. NotFound (naming `cairn models list`)
  // if there is none.
  StatusOr<RegisteredModel> Model(const std::string& name);
  // A blob by hash, verified (and cached).
  StatusOr<std::string> Blob(const Sha256Digest& hash) { return data_.GetBlob(hash); }
  Status PutBlob(const std::string& bytes) { return data_.PutBlob(bytes); }
  // The exact spec text job `job_id` was submitted with (the caller checks
  // it against the jobSubmitted entry's specHash). NotFound if unknown.
  StatusOr<std::string> JobSpec(const std::string& job_id);
  // Ledger entry `index`'s bytes, as the read API serves them (the caller
  // validates them: nothing here is trusted).
  StatusOr<std::string> Entry(uint64_t index);

 private:
  // The "blob" field of a JSON reply, as a digest.
  StatusOr<Sha256Digest> BlobOf(const std::string& json, const std::string& what);
  data::DataClient data_;
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_COORDINATOR_HTTP_H_
