#include "train/data_source.h"

#include <random>

namespace cairn::train {
namespace {

torch::Tensor ImagesToTensor(const std::string& records, int64_t n, int64_t rows, int64_t cols, torch::Tensor* labels) {
  const int64_t rb = 1 + rows * cols;
  auto raw = torch::from_blob(const_cast<char*>(records.data()), {n, rb}, torch::kUInt8);
  *labels = raw.select(1, 0).to(torch::kLong).clone();
  return raw.narrow(1, 1, rows * cols).to(torch::kFloat).div_(255.0).view({n, 1, rows, cols}).clone();
}

}  // namespace

StatusOr<DataSource> DataSource::Load(data::DataClient& client, const data::Manifest& manifest, uint32_t rank,
                                      uint32_t world, int64_t context, bool need_eval) {
  DataSource d;
  d.manifest_ = manifest;
  d.context_ = context;
  if (manifest.format == data::Format::kIdx) {
    const data::Split* train = manifest.FindSplit("train");
    const data::Split* test = manifest.FindSplit("test");
    if (!train || !test) return InvalidArgumentError("dataset " + manifest.name + ": an idx dataset needs train and test splits");
    std::string records;
    for (size_t i = 0; i < train->chunks.size(); ++i) {
      if (i % world != rank) continue;
      ASSIGN_OR_RETURN(std::string c, client.GetBlob(train->chunks[i].hash));
      records += c;
      d.chunk_of_row_.insert(d.chunk_of_row_.end(), train->chunks[i].samples, static_cast<uint32_t>(i));
    }
    const int64_t n = static_cast<int64_t>(d.chunk_of_row_.size());
    if (n == 0) return FailedPreconditionError("rank " + std::to_string(rank) + " has no training chunks");
    d.x_ = ImagesToTensor(records, n, manifest.rows, manifest.cols, &d.y_);
    if (need_eval) {
      std::string test_records;
      for (const auto& c : test->chunks) {
        ASSIGN_OR_RETURN(std::string bytes, client.GetBlob(c.hash));
        test_records += bytes;
      }
      d.eval_x = ImagesToTensor(test_records, static_cast<int64_t>(test->samples), manifest.rows, manifest.cols, &d.eval_y);
    }
    return d;
  }
  if (manifest.format != data::Format::kText) return UnimplementedError("tokens-u16 training is not supported yet");
  d.text_ = true;
  const data::Split* all = manifest.FindSplit("all");
  if (!all) return InvalidArgumentError("dataset " + manifest.name + ": a text dataset has one split, all");
  const uint64_t total = all->samples, train_bytes = total * 9 / 10;
  const uint64_t per = train_bytes / world;
  d.train_begin_ = per * rank;
  d.train_end_ = rank + 1 == world ? train_bytes : per * (rank + 1);
  if (d.train_end_ - d.train_begin_ < static_cast<uint64_t>(context + 1)) {
    return FailedPreconditionError("text shard of rank " + std::to_string(rank) + " is shorter than the context");
  }
  auto fetch_range = [&](uint64_t begin, uint64_t end) -> StatusOr<std::string> {
    std::string out;
    for (const auto& c : all->chunks) {
      const uint64_t cb = c.first_sample, ce = c.first_sample + c.samples;
      if (ce <= begin || cb >= end) continue;
      ASSIGN_OR_RETURN(std::string bytes, client.GetBlob(c.hash));
      const uint64_t from = std::max(begin, cb), to = std::min(end, ce);
      out += bytes.substr(from - cb, to - from);
    }
    return out;
  };
  ASSIGN_OR_RETURN(d.bytes_, fetch_range(d.train_begin_, d.train_end_));
  if (!all->chunks.empty()) d.chunk_bytes_ = all->chunks[0].bytes;
  if (need_eval) {
    ASSIGN_OR_RETURN(std::string val, fetch_range(train_bytes, total));
    // Fixed validation windows, evenly spaced, the same for every round.
    const int64_t windows = 256;
    const int64_t span = static_cast<int64_t>(val.size()) - context - 1;
    if (span <= 0) return FailedPreconditionError("validation text is shorter than the context");
    auto x = torch::empty({windows, context}, torch::kLong), y = torch::empty({windows, context}, torch::kLong);
    auto xa = x.accessor<int64_t, 2>(), ya = y.accessor<int64_t, 2>();
    for (int64_t w = 0; w < windows; ++w) {
      const int64_t off = span * w / windows;
      for (int64_t t = 0; t < context; ++t) {
        xa[w][t] = static_cast<uint8_t>(val[off + t]);
        ya[w][t] = static_cast<uint8_t>(val[off + t + 1]);
      }
    }
    d.eval_x = x;
    d.eval_y = y;
  }
  return d;
}

std::pair<torch::Tensor, torch::Tensor> DataSource::Batch(uint64_t seed, int64_t batch, ChunkCounts* used) {
  std::mt19937_64 rng(seed);
  if (!text_) {
    const int64_t n = x_.size(0);
    auto idx = torch::empty({batch}, torch::kLong);
    auto ia = idx.accessor<int64_t, 1>();
    for (int64_t i = 0; i < batch; ++i) {
      ia[i] = static_cast<int64_t>(rng() % static_cast<uint64_t>(n));
      ++(*used)[chunk_of_row_[ia[i]]];
    }
    return {x_.index_select(0, idx), y_.index_select(0, idx)};
  }
  auto x = torch::empty({batch, context_}, torch::kLong), y = torch::empty({batch, context_}, torch::kLong);
  auto xa = x.accessor<int64_t, 2>(), ya = y.accessor<int64_t, 2>();
  const uint64_t span = bytes_.size() - context_ - 1;
  for (int64_t b = 0; b < batch; ++b) {
    const uint64_t off = rng() % (span + 1);
    for (int64_t t = 0; t < context_; ++t) {
      xa[b][t] = static_cast<uint8_t>(bytes_[off + t]);
      ya[b][t] = static_cast<uint8_t>(bytes_[off + t + 1]);
    }
    (*used)[static_cast<uint32_t>((train_begin_ + off) / chunk_bytes_)] += static_cast<uint64_t>(context_);
  }
  return {x, y};
}

}  // namespace cairn::train
