// The coordinator's dataset registry: the blob store holding chunks and
// manifests, and the index of registered names. Registration checks a
// contributor's signed datasetRegistered entry against the manifest (same
// id, name, format, sizes), checks every chunk is already uploaded, appends
// the entry to the ledger, and only then indexes the name. The index
// (DIR/datasets.json) is rewritten atomically; the ledger stays the record.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_DATA_DATASET_REGISTRY_H_
#define CAIRN_DATA_DATASET_REGISTRY_H_

#include <map>
#include <string>
#include <vector>

#include "data/blob_store.h"
#include "data/manifest.h"
#include "ledger/log.h"
#include "runtime/base/mutex.h"

namespace cairn::data {

struct RegisteredDataset {
  std::string name;
  Sha256Digest id{};
  Sha256Digest manifest_hash{};
  std::string contributor;  // Ed25519 public key (raw)
  uint64_t ledger_index = 0;
};

// The datasetRegistered entry for `m`, signed by its contributor.
StatusOr<std::string> SignDatasetRegistration(const Ed25519PrivateKey& contributor, const Manifest& m,
                                              int64_t timestamp_unix_millis);

class DatasetRegistry {
 public:
  // `dir` holds blobs/ and datasets.json; `log` outlives the registry.
  static StatusOr<std::unique_ptr<DatasetRegistry>> Open(const std::string& dir, ledger::Log* log);

  BlobStore& blobs() { return blobs_; }

  // Registers `manifest` under the entry's actor. Errors: InvalidArgument
  // (entry or manifest wrong, naming the field), FailedPrecondition (chunks
  // missing: names the first), AlreadyExists (name taken by other data).
  // Registering the same data under the same name again returns the
  // existing record.
  StatusOr<RegisteredDataset> Register(const Manifest& manifest, const std::string& entry);

  // By name or by hex id.
  StatusOr<RegisteredDataset> Find(const std::string& name_or_id) const;
  StatusOr<Manifest> LoadManifest(const std::string& name_or_id) const;
  std::vector<RegisteredDataset> List() const;

 private:
  DatasetRegistry(BlobStore blobs, std::string index_path, ledger::Log* log)
      : blobs_(std::move(blobs)), index_path_(std::move(index_path)), log_(log) {}
  Status SaveIndex() const EXCLUSIVE_LOCKS_REQUIRED(mu_);

  BlobStore blobs_;
  const std::string index_path_;
  ledger::Log* const log_;
  mutable Mutex mu_;
  std::map<std::string, RegisteredDataset> by_name_ GUARDED_BY(mu_);
};

}  // namespace cairn::data

#endif  // CAIRN_DATA_DATASET_REGISTRY_H_
