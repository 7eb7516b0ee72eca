#include "train/data_source.h"

#include <algorithm>
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
                                      uint32_t world, int64_t context, bool need_eval, int64_t vocab) {
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
  // Text (a token is a byte) and tokens-u16 (a token is a little-endian
  // u16) share everything below; positions count tokens, not bytes.
  d.text_ = true;
  const uint64_t rb = manifest.format == data::Format::kTokensU16 ? 2 : 1;
  if (manifest.record_bytes != rb) {
    return InvalidArgumentError("dataset " + manifest.name + ": a " + data::FormatName(manifest.format) +
                                " dataset has " + std::to_string(rb) + "-byte records, the manifest says " +
                                std::to_string(manifest.record_bytes));
  }
  const data::Split* all = manifest.FindSplit("all");
  if (!all) return InvalidArgumentError("dataset " + manifest.name + ": a text dataset has one split, all");
  const uint64_t total = all->samples, train_bytes = total * 9 / 10;
  const uint64_t window = static_cast<uint64_t>(context + 1);
  const uint64_t chunk = all->chunks.empty() ? data::kChunkBytes : std::max<uint64_t>(1, all->chunks[0].samples);
  // About 64 stripes per rank, at least 32 windows and at most one chunk
  // long; a text too small for that is cut into `world` contiguous parts.
  uint64_t stripe = std::min(chunk, std::max(train_bytes / (uint64_t{world} * 64), 32 * window));
  if (stripe * world > train_bytes) stripe = train_bytes / world;
  if (stripe < window) {
    return FailedPreconditionError("text shard of rank " + std::to_string(rank) + " is shorter than the context");
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [begin, end) in the split
  const uint64_t stripes = train_bytes / stripe;       // a short tail joins the last stripe
  for (uint64_t k = rank; k < stripes; k += world) {
    ranges.emplace_back(k * stripe, k + 1 == stripes ? train_bytes : (k + 1) * stripe);
  }
  // The tokens of `want` ([begin, end) token ranges, in order), each
  // checked against the model's vocabulary.
  auto fetch_ranges = [&](const std::vector<std::pair<uint64_t, uint64_t>>& want) -> StatusOr<std::vector<uint16_t>> {
    std::vector<uint16_t> out;
    for (const auto& c : all->chunks) {
      const uint64_t cb = c.first_sample, ce = c.first_sample + c.samples;
      std::string bytes;
      bool fetched = false;
      for (const auto& [begin, end] : want) {
        if (ce <= begin || cb >= end) continue;
        if (!fetched) {
          ASSIGN_OR_RETURN(bytes, client.GetBlob(c.hash));
          fetched = true;
        }
        const uint64_t from = std::max(begin, cb), to = std::min(end, ce);
        if (bytes.size() < (to - cb) * rb) return DataLossError("dataset " + manifest.name + ": a chunk is shorter than its manifest says");
        for (uint64_t i = from; i < to; ++i) {
          const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + (i - cb) * rb;
          const uint16_t token = rb == 1 ? p[0] : static_cast<uint16_t>(p[0] | (p[1] << 8));
          if (token >= vocab) {
            return InvalidArgumentError("dataset " + manifest.name + ": token " + std::to_string(token) + " at position " +
                                        std::to_string(i) + " is outside the model's vocabulary of " +
                                        std::to_string(vocab) + " (set hyperparameters.vocab)");
          }
          out.push_back(token);
        }
      }
    }
    return out;
  };
  // Chunks are visited in order and each range lies in order within them,
  // so the concatenation is the ranges in order.
  ASSIGN_OR_RETURN(d.tokens_, fetch_ranges(ranges));
  uint64_t local = 0;
  for (const auto& [begin, end] : ranges) {
    d.stripes_.push_back(Stripe{begin, local, d.windows_});
    d.windows_ += end - begin - window + 1;
    local += end - begin;
  }
  if (local != d.tokens_.size()) return DataLossError("dataset " + manifest.name + ": its chunks do not cover the text");
  d.chunk_samples_ = chunk;
  auto fetch_range = [&](uint64_t begin, uint64_t end) { return fetch_ranges({{begin, end}}); };
  if (need_eval) {
    ASSIGN_OR_RETURN(std::vector<uint16_t> val, fetch_range(train_bytes, total));
    // The whole validation range, cut into consecutive windows of `context`
    // tokens (each predicting the next token at every position): the
    // validation loss is over every validation token but the last partial
    // window's, the same every round.
    const int64_t stride = context;
    const int64_t windows = (static_cast<int64_t>(val.size()) - 1) / stride;
    if (windows <= 0) return FailedPreconditionError("validation text is shorter than the context");
    auto x = torch::empty({windows, context}, torch::kLong), y = torch::empty({windows, context}, torch::kLong);
    auto xa = x.accessor<int64_t, 2>(), ya = y.accessor<int64_t, 2>();
    for (int64_t w = 0; w < windows; ++w) {
      const int64_t off = w * stride;
      for (int64_t t = 0; t < context; ++t) {
        xa[w][t] = val[off + t];
        ya[w][t] = val[off + t + 1];
      }
    }
    d.eval_x = x;
    d.eval_y = y;
  }
  return d;
}

std::vector<std::pair<uint64_t, uint64_t>> DataSource::TrainRanges() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t i = 0; i < stripes_.size(); ++i) {
    const uint64_t len = (i + 1 < stripes_.size() ? stripes_[i + 1].local : tokens_.size()) - stripes_[i].local;
    out.emplace_back(stripes_[i].begin, stripes_[i].begin + len);
  }
  return out;
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
  for (int64_t b = 0; b < batch; ++b) {
    // A window start, uniform over every stripe's positions.
    const uint64_t pick = rng() % windows_;
    const auto it = std::upper_bound(stripes_.begin(), stripes_.end(), pick,
                                     [](uint64_t p, const Stripe& st) { return p < st.first; }) - 1;
    const uint64_t off = it->local + (pick - it->first);
    for (int64_t t = 0; t < context_; ++t) {
      xa[b][t] = tokens_[off + t];
      ya[b][t] = tokens_[off + t + 1];
    }
    (*used)[static_cast<uint32_t>((it->begin + (pick - it->first)) / chunk_samples_)] += static_cast<uint64_t>(context_);
  }
  return {x, y};
}

}  // namespace cairn::train
