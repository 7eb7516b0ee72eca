// Training data for one rank, fetched through the data plane: only the
// chunks this rank trains on (and, for rank 0, the evaluation split), each
// verified and cached by hash. Samples are drawn in an order derived from
// (seed, job, round, rank) alone, so deterministic runs repeat exactly, and
// every draw is counted against the chunk it came from (for receipts and
// data payouts).
//   idx:  split "train" sharded by chunk (chunk i -> rank i % world), split
//         "test" for accuracy; pixels scaled to [0, 1].
//   text: split "all"; the first 90% of bytes train, the last 10% validate;
//         samples are windows of context+1 bytes. tokens-u16 is the same
//         with little-endian u16 tokens in place of bytes (positions, stripes
//         and charges count tokens). The training range is cut
//         into stripes dealt round-robin to the ranks (stripe k -> rank
//         k % world), so every rank's shard spans the whole text: contiguous
//         halves would give DiLoCo replicas different distributions (one
//         play each) and make them drift apart between outer steps. A stripe
//         is a 1 MiB chunk for large texts, smaller (about 64 per rank, at
//         least 32 windows long) for small ones; windows never cross one.
// Includes <torch/torch.h>: include from train/*.cc only.
// Thread safety: one training thread.
#ifndef CAIRN_TRAIN_DATA_SOURCE_H_
#define CAIRN_TRAIN_DATA_SOURCE_H_

#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "data/data_client.h"
#include "data/manifest.h"
#include "runtime/base/statusor.h"

namespace cairn::train {

// Samples consumed per chunk (global chunk index in manifest order).
using ChunkCounts = std::map<uint32_t, uint64_t>;

class DataSource {
 public:
  // context: text window (ignored for images). vocab: tokens must be below
  // it (text and tokens-u16), else InvalidArgument naming the first one.
  static StatusOr<DataSource> Load(data::DataClient& client, const data::Manifest& manifest, uint32_t rank,
                                   uint32_t world, int64_t context, bool need_eval, int64_t vocab = 256);

  // A training batch of `batch` samples for (round, step); counts its
  // chunks into `used`. x: images [B,1,H,W] float / text [B,T] int64;
  // y: labels [B] / next bytes [B,T].
  std::pair<torch::Tensor, torch::Tensor> Batch(uint64_t seed, int64_t batch, ChunkCounts* used);
  // Evaluation: accuracy (images, over the whole test split) or mean
  // cross-entropy (text, `batches` fixed windows of the validation range).
  bool is_text() const { return text_; }
  int64_t train_samples() const { return text_ ? static_cast<int64_t>(tokens_.size()) : x_.size(0); }
  const data::Manifest& manifest() const { return manifest_; }
  // Text: the [begin, end) byte ranges of the split this rank trains on.
  std::vector<std::pair<uint64_t, uint64_t>> TrainRanges() const;
  int64_t rows() const { return manifest_.rows; }
  int64_t cols() const { return manifest_.cols; }

  torch::Tensor eval_x, eval_y;  // images: the test split; text: validation windows

 private:
  data::Manifest manifest_;
  bool text_ = false;
  int64_t context_ = 0;
  // images
  torch::Tensor x_, y_;
  std::vector<uint32_t> chunk_of_row_;
  // text
  struct Stripe {
    uint64_t begin = 0;      // offset in the split
    uint64_t local = 0;      // offset in tokens_
    uint64_t first = 0;      // index of its first window over all stripes
  };
  std::vector<uint16_t> tokens_;  // this rank's stripes, concatenated
  std::vector<Stripe> stripes_;
  uint64_t windows_ = 0;         // over all stripes
  uint64_t chunk_samples_ = data::kChunkBytes;  // tokens per chunk (the last may be shorter)
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_DATA_SOURCE_H_
