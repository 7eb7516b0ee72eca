// Text shards: stripes dealt round-robin cover the training range exactly
// once across ranks, each rank's spans the whole text (DiLoCo replicas see
// the same distribution), windows come from the rank's own stripes, and
// samples are charged to the chunks they came from.
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>

#include "data/loopback_data_plane.h"
#include "runtime/base/temp_dir.h"
#include "train/data_source.h"

namespace cairn::train {
namespace {

std::string Text(size_t n) {
  std::string s;
  uint64_t x = 88172645463325252ull;
  while (s.size() < n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s.push_back(static_cast<char>('a' + x % 26));
  }
  return s;
}

class TextShards : public ::testing::Test {
 protected:
  StatusOr<data::Manifest> Add(const std::string& text, const std::string& name) {
    const std::string path = dir_.path() + "/" + name + ".txt";
    std::ofstream(path, std::ios::binary) << text;
    return plane_.Add(path, data::Format::kText, name);
  }
  data::LoopbackDataPlane plane_;
  ScopedTempDir dir_;
};

TEST_F(TextShards, StripesCoverTheTrainingTextOnceAndSpanIt) {
  const std::string text = Text(3 * 1024 * 1024 + 12345);  // 4 chunks
  auto m = Add(text, "big");
  ASSERT_TRUE(m.ok()) << m.status();
  const uint64_t train_bytes = text.size() * 9 / 10;
  for (uint32_t world : {1u, 2u, 3u}) {
    std::vector<std::pair<uint64_t, uint64_t>> all;
    for (uint32_t rank = 0; rank < world; ++rank) {
      data::DataClient client("127.0.0.1", plane_.port(), "");
      auto d = DataSource::Load(client, *m, rank, world, 64, false);
      ASSERT_TRUE(d.ok()) << d.status();
      auto ranges = d->TrainRanges();
      ASSERT_FALSE(ranges.empty());
      // Spread over the whole text, not one contiguous part of it.
      EXPECT_LT(ranges.front().first, train_bytes / 10) << "world " << world << " rank " << rank;
      EXPECT_GT(ranges.back().second, train_bytes * 9 / 10) << "world " << world << " rank " << rank;
      uint64_t bytes = 0;
      for (auto [b, e] : ranges) bytes += e - b;
      EXPECT_EQ(d->train_samples(), static_cast<int64_t>(bytes));
      // Windows are the text at a position inside one of this rank's ranges.
      ChunkCounts used;
      auto [x, y] = d->Batch(7 + rank, 64, &used);
      ASSERT_EQ(x.sizes(), (std::vector<int64_t>{64, 64}));
      uint64_t charged = 0;
      for (auto [chunk, n] : used) {
        charged += n;
        bool overlaps = false;
        for (auto [b, e] : ranges) overlaps |= b < (chunk + 1) * data::kChunkBytes && e > chunk * data::kChunkBytes;
        EXPECT_TRUE(overlaps) << "chunk " << chunk << " is not in rank " << rank << "'s shard";
      }
      EXPECT_EQ(charged, 64u * 64u);
      for (int64_t b = 0; b < 64; ++b) {
        std::string window;
        for (int64_t t = 0; t < 64; ++t) window.push_back(static_cast<char>(x[b][t].item<int64_t>()));
        window.push_back(static_cast<char>(y[b][63].item<int64_t>()));
        bool inside = false;
        for (auto [rb, re] : ranges) {
          const size_t at = text.substr(rb, re - rb).find(window);
          inside |= at != std::string::npos;
        }
        EXPECT_TRUE(inside) << "window " << b << " of rank " << rank << " is not from its shard";
      }
      all.insert(all.end(), ranges.begin(), ranges.end());
    }
    std::sort(all.begin(), all.end());
    uint64_t at = 0;
    for (auto [b, e] : all) {
      EXPECT_EQ(b, at) << "world " << world << ": a gap or an overlap";
      at = e;
    }
    EXPECT_EQ(at, train_bytes) << "world " << world;
  }
}

TEST_F(TextShards, SmallTextsSplitContiguouslyAndTooSmallIsNamed) {
  auto m = Add(Text(1000), "small");
  ASSERT_TRUE(m.ok()) << m.status();
  data::DataClient client("127.0.0.1", plane_.port(), "");
  auto d = DataSource::Load(client, *m, 1, 2, 64, false);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->TrainRanges(), (std::vector<std::pair<uint64_t, uint64_t>>{{450, 900}}));
  auto tiny = Add(Text(200), "tiny");
  ASSERT_TRUE(tiny.ok()) << tiny.status();
  auto refused = DataSource::Load(client, *tiny, 0, 4, 64, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_NE(std::string(refused.status().message()).find("shorter than the context"), std::string::npos);
}

// tokens-u16: little-endian u16 ids above 255 decode intact, windows and
// the validation range count tokens (not bytes), draws are charged to the
// chunk they came from, and a token outside the model's vocabulary is named.
TEST_F(TextShards, TokensU16DecodeAndCountTokens) {
  constexpr uint32_t kTokens = 700000, kMod = 60000;  // 1.4 MB: two chunks of 524,288 tokens
  std::string raw;
  for (uint32_t i = 0; i < kTokens; ++i) {
    const uint16_t t = static_cast<uint16_t>(i % kMod);
    raw.push_back(static_cast<char>(t & 0xff));
    raw.push_back(static_cast<char>(t >> 8));
  }
  const std::string path = dir_.path() + "/tokens.u16";
  std::ofstream(path, std::ios::binary) << raw;
  auto m = plane_.Add(path, data::Format::kTokensU16, "tokens");
  ASSERT_TRUE(m.ok()) << m.status();
  data::DataClient client("127.0.0.1", plane_.port(), "");
  const uint64_t train_tokens = kTokens * 9ull / 10;
  uint64_t covered = 0;
  for (uint32_t rank = 0; rank < 2; ++rank) {
    auto d = DataSource::Load(client, *m, rank, 2, 32, rank == 0, kMod);
    ASSERT_TRUE(d.ok()) << d.status();
    for (const auto& [b, e] : d->TrainRanges()) covered += e - b;
    ChunkCounts used;
    auto [x, y] = d->Batch(7 + rank, 16, &used);
    ASSERT_EQ(x.sizes(), (std::vector<int64_t>{16, 32}));
    int64_t largest = 0;
    for (int64_t b = 0; b < 16; ++b) {
      for (int64_t t = 0; t < 32; ++t) {
        ASSERT_EQ(y[b][t].item<int64_t>(), (x[b][t].item<int64_t>() + 1) % kMod) << "row " << b << " col " << t;
        largest = std::max(largest, x[b][t].item<int64_t>());
      }
    }
    EXPECT_GT(largest, 255) << "ids above a byte must survive";
    uint64_t charged = 0;
    for (const auto& [chunk, n] : used) {
      EXPECT_LT(chunk, 2u);
      charged += n;
    }
    EXPECT_EQ(charged, 16u * 32u);
    if (rank == 0) {
      // Validation: the last 10% of tokens, consecutive 32-token windows.
      EXPECT_EQ(d->eval_x.size(0), static_cast<int64_t>((kTokens - train_tokens - 1) / 32));
      EXPECT_EQ(d->eval_x[0][0].item<int64_t>(), static_cast<int64_t>(train_tokens % kMod));
      EXPECT_EQ(d->eval_x[1][0].item<int64_t>(), static_cast<int64_t>((train_tokens + 32) % kMod));
    }
  }
  EXPECT_EQ(covered, train_tokens);
  auto small = DataSource::Load(client, *m, 0, 2, 32, false, 1000);
  EXPECT_EQ(small.status().code(), StatusCode::kInvalidArgument) << small.status();
  EXPECT_NE(std::string(small.status().message()).find("token 1000 at position 1000 is outside the model's vocabulary of 1000"),
            std::string::npos)
      << small.status();
}

}  // namespace
}  // namespace cairn::train
