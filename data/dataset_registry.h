// The coordinator's dataset registry: the blob store holding chunks and
// manifests, and the index of registered names. Registration checks a
// contributor's signed datasetRegistered entry against the manifest (same
// id, name, format, sizes, manifest hash), checks every chunk is already
// uploaded and appends the entry to the ledger. The index is a view of the
// ledger: ApplyCommitted() is fed every committed entry in log order (at
// start by a replay, then by the log's on_commit), so it is rebuilt from the
// ledger on every start and never holds a registration the ledger lost.
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

// The datasetRegistered entry for `m`, signed by its contributor. It names
// the manifest by hash (of ManifestToJson(m)), so the index can be rebuilt
// from the ledger.
StatusOr<std::string> SignDatasetRegistration(const Ed25519PrivateKey& contributor, const Manifest& m,
                                              int64_t timestamp_unix_millis);

class DatasetRegistry {
 public:
  // `dir` holds blobs/. Register() needs SetLedger() first. A datasets.json
  // left by an older coordinator (which kept the index there) names the
  // manifests of entries registered before entries named them; it is read,
  // never written.
  static StatusOr<std::unique_ptr<DatasetRegistry>> Open(const std::string& dir);
  // The log registrations are appended to; it outlives the registry.
  void SetLedger(ledger::Log* log) { log_ = log; }
  // A committed ledger entry, in log order; datasetRegistered ones are
  // indexed (the first registration of a name keeps it).
  void ApplyCommitted(uint64_t index, std::string_view entry);
  // Indexes every entry `store` holds (what a restart does).
  Status Rebuild(const ledger::LedgerStore& store);

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
  explicit DatasetRegistry(BlobStore blobs) : blobs_(std::move(blobs)) {}

  BlobStore blobs_;
  ledger::Log* log_ = nullptr;
  Mutex register_mu_;  // one registration at a time: the name check and the append are one step
  mutable Mutex mu_;
  std::map<std::string, RegisteredDataset> by_name_ GUARDED_BY(mu_);
  std::map<std::string, Sha256Digest> legacy_manifests_;  // raw dataset id -> manifest (from datasets.json; set in Open)
};

}  // namespace cairn::data

#endif  // CAIRN_DATA_DATASET_REGISTRY_H_
