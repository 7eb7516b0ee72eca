#include "ledger/tile_path.h"

#include <random>

#include <gtest/gtest.h>

namespace cairn::ledger {
namespace {

TEST(TilePath, EncodesIndicesAsTheSpecShows) {
  EXPECT_EQ(EncodeTileIndex(0), "000");
  EXPECT_EQ(EncodeTileIndex(7), "007");
  EXPECT_EQ(EncodeTileIndex(1234067), "x001/x234/067");
  EXPECT_EQ((TilePath{false, 1, 1234067, 256}).ToString(), "tile/1/x001/x234/067");
  EXPECT_EQ((TilePath{true, 0, 5, 17}).ToString(), "tile/entries/005.p/17");
}

TEST(TilePath, ParsesWhatItEncodes) {
  std::mt19937_64 rng(3);
  for (int i = 0; i < 2000; ++i) {
    TilePath p{rng() % 2 == 0, static_cast<int>(rng() % 5), rng() % 100'000'000'000ull,
               static_cast<int>(1 + rng() % 256)};
    if (p.entries) p.level = 0;
    std::string s = p.ToString().substr(5);  // after "tile/"
    auto q = ParseTilePath(s);
    ASSERT_TRUE(q.ok()) << s << ": " << q.status();
    EXPECT_EQ(q->entries, p.entries);
    EXPECT_EQ(q->level, p.level);
    EXPECT_EQ(q->index, p.index);
    EXPECT_EQ(q->width, p.width);
  }
}

TEST(TilePath, RejectsWhatTheSpecForbids) {
  for (const char* bad : {"", "0", "01/000", "0/1", "0/0000", "0/x000/001", "0/001/002", "0/x1/002", "0/000.p/0",
                          "0/000.p/256", "0/000.p/07", "0/000.p/", "64/000", "entries/", "0/xabc/000", "0/000/",
                          "0/-01", "0/x001/x002/x003/x004/x005/x006/x007/008", "a/000"}) {
    EXPECT_FALSE(ParseTilePath(bad).ok()) << "'" << bad << "'";
  }
  std::mt19937_64 rng(5);
  const std::string alphabet = "0123456789x/.pentris";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 24, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    auto p = ParseTilePath(s);
    if (p.ok()) {
      EXPECT_EQ(p->ToString().substr(5), s);  // anything accepted is canonical
    }
  }
}

}  // namespace
}  // namespace cairn::ledger
