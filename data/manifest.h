// Dataset manifests: what a registered dataset is made of. A dataset is a
// list of splits ("train", "test", or "all"); each split is a run of samples
// stored in content-addressed chunks of at most kChunkBytes. Fixed-size
// records (an image and its label; a u16 token) never straddle a chunk, so a
// worker can fetch exactly the chunks holding the samples it trains on.
//
// The dataset id is the RFC 6962 Merkle root over the chunk hashes in
// manifest order (split by split): leaf = SHA-256(0x00 || chunk hash).
// It is what the ledger's datasetRegistered entry records, and what a worker
// recomputes from a manifest before trusting it. JSON form in docs/data.md.
//
// Thread safety: plain values; functions are pure.
#ifndef CAIRN_DATA_MANIFEST_H_
#define CAIRN_DATA_MANIFEST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"
#include "runtime/crypto/sha256.h"

namespace cairn::data {

inline constexpr uint64_t kChunkBytes = 1 << 20;
inline constexpr size_t kMaxManifestBytes = 8 << 20;

enum class Format { kIdx, kText, kTokensU16 };
const char* FormatName(Format f);
StatusOr<Format> ParseFormat(const std::string& name);

struct ChunkRef {
  Sha256Digest hash{};
  uint64_t bytes = 0;
  uint64_t first_sample = 0;  // index within the split
  uint64_t samples = 0;
};

struct Split {
  std::string name;
  uint64_t samples = 0;
  std::vector<ChunkRef> chunks;
};

struct Manifest {
  std::string name;
  Format format = Format::kText;
  std::string license;                 // SPDX identifier
  uint64_t price_per_1k_micros = 0;    // credits per 1,000 samples, in micros
  uint64_t record_bytes = 1;           // bytes per sample (idx: 1 + rows*cols)
  uint32_t rows = 0, cols = 0;         // idx images
  std::vector<Split> splits;

  uint64_t TotalBytes() const;
  uint64_t TotalSamples() const;
  size_t TotalChunks() const;
  const Split* FindSplit(const std::string& name) const;
};

// The Merkle root over every chunk hash, split by split.
Sha256Digest DatasetId(const Manifest& m);

std::string ManifestToJson(const Manifest& m);
// Parses and checks a manifest (it arrives over the network): every field
// present and typed, chunk sizes within kChunkBytes and a whole number of
// records, sample ranges contiguous. Errors name the field.
StatusOr<Manifest> ParseManifest(const std::string& json);

}  // namespace cairn::data

#endif  // CAIRN_DATA_MANIFEST_H_
