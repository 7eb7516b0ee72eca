// The int8 pseudo-gradient coding: round trips, and every malformed stream a
// peer could send is refused with a clear error, never over-read.
#include "train/deflate.h"

#include <random>

#include <gtest/gtest.h>

namespace cairn::train {
namespace {

std::string Int8Like(std::mt19937& rng, size_t n) {
  std::normal_distribution<double> d(0, 12);  // absmax-scaled values cluster near zero
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(std::max(-127.0, std::min(127.0, std::round(d(rng)))));
  return s;
}

TEST(Deflate, RoundTripsAndShrinksInt8Values) {
  std::mt19937 rng(7);
  for (size_t n : {size_t{1}, size_t{255}, size_t{4096}, size_t{1} << 20}) {
    const std::string raw = Int8Like(rng, n);
    auto z = Deflate(raw);
    ASSERT_TRUE(z.ok()) << z.status();
    auto back = Inflate(*z, raw.size());
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, raw);
    if (n >= 4096) {
      EXPECT_LT(z->size(), raw.size() * 85 / 100) << "n=" << n;
    }
  }
  auto empty = Deflate("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*Inflate(*empty, 0), "");
}

TEST(Deflate, RefusesWhatAPeerShouldNotSend) {
  std::mt19937 rng(11);
  const std::string raw = Int8Like(rng, 20000);
  const std::string z = *Deflate(raw);
  EXPECT_NE(Inflate(z, raw.size() - 1).status().message().find("more than the expected"), std::string::npos)
      << Inflate(z, raw.size() - 1).status();
  EXPECT_NE(Inflate(z, raw.size() + 1).status().message().find("expected"), std::string::npos);
  EXPECT_NE(Inflate(z + "x", raw.size()).status().message().find("follow"), std::string::npos);
  EXPECT_FALSE(Inflate(z.substr(0, z.size() / 2), raw.size()).ok());
  EXPECT_FALSE(Inflate("", raw.size()).ok());
  // Random bytes, and single-bit flips of a valid stream: refused, or (a flip
  // in an unused header bit) the same contents; never different ones.
  std::uniform_int_distribution<size_t> len(0, 4096);
  for (int i = 0; i < 2000; ++i) {
    std::string junk(len(rng), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    EXPECT_FALSE(Inflate(junk, raw.size()).ok());
  }
  std::uniform_int_distribution<size_t> at(0, z.size() * 8 - 1);
  for (int i = 0; i < 2000; ++i) {
    std::string bad = z;
    const size_t bit = at(rng);
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (1 << (bit % 8)));
    auto r = Inflate(bad, raw.size());
    if (r.ok()) {
      EXPECT_EQ(*r, raw) << "flip of bit " << bit << " accepted with different contents";
    }
  }
}

}  // namespace
}  // namespace cairn::train
