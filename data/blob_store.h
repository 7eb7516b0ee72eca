// A content-addressed blob store on a local directory: DIR/<first two hex
// digits>/<64 hex digits>. The coordinator keeps dataset chunks, manifests,
// checkpoints and models in one; every worker keeps a cache in another.
// Writes go to a temporary file, are fsynced and renamed into place, so a
// crash leaves either the whole blob or nothing. Reads re-verify the hash
// (a flipped bit on disk is DataLoss, never wrong training data).
// Thread safety: safe from any thread (each call works on its own file).
#ifndef CAIRN_DATA_BLOB_STORE_H_
#define CAIRN_DATA_BLOB_STORE_H_

#include <string>
#include <string_view>

#include "runtime/base/statusor.h"
#include "runtime/crypto/sha256.h"

namespace cairn::data {

// The largest blob the coordinator's blob store takes (checkpoints of models
// up to ~4M fp32 parameters with their optimizer state, TorchScript models).
inline constexpr size_t kMaxBlobBytes = 64 << 20;

class BlobStore {
 public:
  // Creates DIR if needed.
  static StatusOr<BlobStore> Open(const std::string& dir);

  // Stores `bytes`; returns their hash. Idempotent.
  StatusOr<Sha256Digest> Put(std::string_view bytes);
  // Stores bytes that must hash to `want` (InvalidArgument otherwise).
  Status PutExpecting(const Sha256Digest& want, std::string_view bytes);
  // NotFound if absent; DataLoss if the stored bytes no longer match.
  StatusOr<std::string> Get(const Sha256Digest& hash) const;
  bool Has(const Sha256Digest& hash) const;
  std::string PathOf(const Sha256Digest& hash) const;
  const std::string& dir() const { return dir_; }

 private:
  explicit BlobStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace cairn::data

#endif  // CAIRN_DATA_BLOB_STORE_H_
