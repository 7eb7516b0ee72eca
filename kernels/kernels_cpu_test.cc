// Unit tests of the kernels' host-side pieces that the registry does not
// cover: the portable SHA-256 against OpenSSL (through runtime/crypto) at
// every tail length, the int8 buffer parser under malformed and random input
// (it parses bytes received from peers), ParallelFor's coverage, and
// AdamW's option checks.
#include <atomic>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/adamw_cpu.h"
#include "kernels/fingerprint_cpu.h"
#include "kernels/parallel_cpu.h"
#include "kernels/quantize_cpu.h"
#include "kernels/sha256_portable.cuh"
#include "runtime/crypto/sha256.h"

namespace cairn::kernels {
namespace {

TEST(Sha256Portable, MatchesOpensslAtEveryTailLength) {
  std::mt19937_64 rng(7);
  std::string data(300, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  // Unaligned starts too: the device path loads differently there.
  for (size_t start : {0, 1, 3}) {
    for (size_t len = 0; start + len <= data.size(); ++len) {
      for (uint8_t suffix : {uint8_t{0x00}, uint8_t{0x01}, uint8_t{0xff}}) {
        uint8_t got[32];
        sha256::HashWithSuffix(reinterpret_cast<const uint8_t*>(data.data()) + start, len, suffix, got);
        const Sha256Digest want = Sha256(data.substr(start, len) + static_cast<char>(suffix));
        ASSERT_EQ(0, std::memcmp(got, want.data(), 32)) << "start " << start << " len " << len;
      }
    }
  }
}

TEST(Sha256Portable, InteriorIsLeftRightSuffix) {
  uint8_t l[32], r[32], got[32];
  for (int i = 0; i < 32; ++i) l[i] = static_cast<uint8_t>(i), r[i] = static_cast<uint8_t>(200 - i);
  sha256::HashInterior(l, r, got);
  std::string msg(reinterpret_cast<char*>(l), 32);
  msg.append(reinterpret_cast<char*>(r), 32);
  msg.push_back('\x01');
  EXPECT_EQ(0, std::memcmp(got, Sha256(msg).data(), 32));
}

TEST(Fingerprint, KnownAnswerForTheEmptyList) {
  // SHA-256("cairn-fingerprint-v1" || u64le(0)), so the definition cannot
  // drift silently.
  std::string msg = std::string(kFingerprintDomain) + std::string(8, '\0');
  const Sha256Digest want = Sha256(msg);
  EXPECT_EQ(0, std::memcmp(FingerprintCpu({}).data(), want.data(), 32));
}

TEST(Fingerprint, BindsTensorBoundaries) {
  std::vector<uint8_t> a(5000, 7);
  // Same bytes, split differently: different digests.
  const Digest256 one = FingerprintCpu({ByteSpan{a.data(), 5000}});
  const Digest256 two = FingerprintCpu({ByteSpan{a.data(), 4096}, ByteSpan{a.data() + 4096, 904}});
  EXPECT_NE(one, two);
  EXPECT_EQ(FingerprintCpu({ByteSpan{a.data(), 5000}}, 1), FingerprintCpu({ByteSpan{a.data(), 5000}}, 8));
}

std::vector<uint8_t> ValidBuffer(int64_t count, int32_t block) {
  auto layout = Int8LayoutFor(count, block);
  std::vector<uint8_t> buf(layout->total_bytes, 0);
  WriteInt8Header(*layout, buf.data());
  return buf;
}

TEST(Int8Format, ParsesWhatItWrites) {
  for (int64_t count : {0, 1, 255, 256, 257, 10000}) {
    for (int32_t block : {1, 64, 256, 1000}) {
      auto buf = ValidBuffer(count, block);
      auto l = ParseInt8Header(buf.data(), buf.size());
      ASSERT_TRUE(l.ok()) << l.status();
      EXPECT_EQ(l->count, count);
      EXPECT_EQ(l->block, block);
      EXPECT_EQ(l->values_offset, 16 + 4 * static_cast<size_t>((count + block - 1) / block));
    }
  }
}

TEST(Int8Format, NamesWhatIsWrong) {
  auto buf = ValidBuffer(1000, 256);
  auto expect = [](std::vector<uint8_t> b, const std::string& word) {
    auto l = ParseInt8Header(b.data(), b.size());
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(l.status().message().find(word), std::string::npos) << l.status();
  };
  expect(std::vector<uint8_t>(buf.begin(), buf.begin() + 10), "header");
  auto b = buf; b[0] = 'X'; expect(b, "magic");
  b = buf; b[3] = 2; expect(b, "version");
  b = buf; b[4] = b[5] = b[6] = b[7] = 0; expect(b, "block");
  b = buf; b[7] = 0x7f; expect(b, "block");
  b = buf; b[15] = 0x80; expect(b, "count");
  b = buf; b.push_back(0); expect(b, "size");
  b = buf; b.pop_back(); expect(b, "size");
  const float bad[3] = {1.0f, NAN, 2.0f};
  EXPECT_NE(CheckInt8Scales(bad, 3).message().find("block 1"), std::string::npos);
  const float neg[1] = {-1.0f};
  EXPECT_FALSE(CheckInt8Scales(neg, 1).ok());
}

TEST(Int8Format, RandomAndMutatedInputNeverCrashes) {
  std::mt19937_64 rng(11);
  const auto valid = ValidBuffer(3000, 256);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> b;
    if (i % 2) {
      b.resize(rng() % 64);
      for (auto& c : b) c = static_cast<uint8_t>(rng());
    } else {
      b = valid;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) b[rng() % 16] ^= static_cast<uint8_t>(1 + rng() % 255);
      if (rng() % 4 == 0) b.resize(rng() % (b.size() + 8));
    }
    auto l = ParseInt8Header(b.data(), b.size());
    if (l.ok()) {
      ++accepted;
      ASSERT_EQ(l->total_bytes, b.size());  // an accepted header always describes the buffer exactly
    }
  }
  EXPECT_LT(accepted, 200);
}

TEST(ParallelFor, CoversEveryIndexOnce) {
  for (int64_t n : {0, 1, 5, 1000, 100003}) {
    for (int threads : {1, 2, 7}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      ParallelFor(n, 10, threads, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[i]++;
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << threads << " " << i;
    }
  }
}

TEST(AdamW, RefusesBadOptions) {
  AdamWScalars s;
  AdamWOptions o;
  EXPECT_TRUE(MakeAdamWScalars(o, 1, &s).ok());
  EXPECT_FALSE(MakeAdamWScalars(o, 0, &s).ok());
  o.beta1 = 1.0;
  EXPECT_FALSE(MakeAdamWScalars(o, 1, &s).ok());
  o = AdamWOptions{};
  o.lr = -1;
  EXPECT_FALSE(MakeAdamWScalars(o, 1, &s).ok());
}

}  // namespace
}  // namespace cairn::kernels
