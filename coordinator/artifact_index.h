// What the coordinator must find again by name after the ledger recorded
// it: each job's latest checkpoint (where a requeued job resumes) and each
// registered model (what `cairn models pull` and serving load). Kept in
// DIR/artifacts.json, rewritten atomically on every change; the ledger
// entries remain the record, this is their index.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_ARTIFACT_INDEX_H_
#define CAIRN_COORDINATOR_ARTIFACT_INDEX_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"

namespace cairn::coordinator {

struct CheckpointRef {
  uint64_t round = 0;
  std::string blob;  // SHA-256, raw
};

struct ModelRef {
  std::string name;
  std::string blob;          // SHA-256 of the TorchScript file, raw
  std::string job_id;
  std::string author;        // Ed25519 public key of the job's submitter ("" when unknown)
  std::vector<std::string> datasets;  // ids, raw
  std::string parent;        // model hash, raw ("" for none)
  std::string license;
};

class ArtifactIndex {
 public:
  static StatusOr<std::unique_ptr<ArtifactIndex>> Open(const std::string& path);
  Status SetCheckpoint(const std::string& job_id, CheckpointRef ref);
  std::optional<CheckpointRef> Checkpoint(const std::string& job_id) const;
  // A later registration under the same name replaces the earlier one.
  Status AddModel(ModelRef model);
  std::optional<ModelRef> Model(const std::string& name) const;
  std::vector<ModelRef> Models() const;

 private:
  explicit ArtifactIndex(std::string path) : path_(std::move(path)) {}
  Status Save() const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const std::string path_;
  mutable Mutex mu_;
  std::map<std::string, CheckpointRef> checkpoints_ GUARDED_BY(mu_);
  std::map<std::string, ModelRef> models_ GUARDED_BY(mu_);
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_ARTIFACT_INDEX_H_
