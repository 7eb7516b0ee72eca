// Training data for one rank, fetched through the data plane: only the
// chunks this rank trains on (and, for rank 0, the evaluation split), each
// verified and cached by hash. Samples are drawn in an order derived from
// (seed, job, round, rank) alone, so deterministic runs repeat exactly, and
// every draw is counted against the chunk it came from (for receipts and
// data payouts).
//   idx:  split "train" sharded by chunk (chunk i -> rank i % world), split
//         "test" for accuracy; pixels scaled to [0, 1].
//   text: split "all"; the first 90% of bytes train (sharded into `world`
//         contiguous ranges), the last 10% validate; samples are windows
//         of context+1 bytes.
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
  // context: text window (ignored for images).
  static StatusOr<DataSource> Load(data::DataClient& client, const data::Manifest& manifest, uint32_t rank,
                                   uint32_t world, int64_t context, bool need_eval);

  // A training batch of `batch` samples for (round, step); counts its
  // chunks into `used`. x: images [B,1,H,W] float / text [B,T] int64;
  // y: labels [B] / next bytes [B,T].
  std::pair<torch::Tensor, torch::Tensor> Batch(uint64_t seed, int64_t batch, ChunkCounts* used);
  // Evaluation: accuracy (images, over the whole test split) or mean
  // cross-entropy (text, `batches` fixed windows of the validation range).
  bool is_text() const { return text_; }
  int64_t train_samples() const { return text_ ? static_cast<int64_t>(train_end_ - train_begin_) : x_.size(0); }
  const data::Manifest& manifest() const { return manifest_; }
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
  std::string bytes_;        // the shard this rank trains on
  uint64_t train_begin_ = 0, train_end_ = 0;  // offsets of the shard in the split
  uint64_t chunk_bytes_ = data::kChunkBytes;
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_DATA_SOURCE_H_
