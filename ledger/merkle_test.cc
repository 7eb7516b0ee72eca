#include "ledger/merkle.h"

#include <filesystem>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "ledger/hash_tiles.h"
#include "runtime/base/encoding.h"
#include "runtime/base/test_data.h"

namespace cairn::ledger {
namespace {

std::string Hex(const Hash& h) { return HexEncode(DigestView(h)); }

// The eight standard RFC 6962 test leaves and the roots of the trees over the
// first n of them (n = 0..8), as published with transparency-dev/merkle.
const char* const kLeavesHex[] = {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                  "606162636465666768696a6b6c6d6e6f"};
const char* const kRoots[] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

TEST(Merkle, Rfc6962RootsOfTheEightStandardLeaves) {
  HashTiles tiles;
  std::vector<Hash> leaves;
  EXPECT_EQ(Hex(RootAt(tiles, 0).value()), kRoots[0]);
  for (int n = 1; n <= 8; ++n) {
    Hash leaf = LeafHash(HexDecode(kLeavesHex[n - 1]).value());
    tiles.Append(leaf);
    leaves.push_back(leaf);
    EXPECT_EQ(Hex(RootAt(tiles, n).value()), kRoots[n]) << n;
    EXPECT_EQ(Hex(RootOfLeaves(leaves)), kRoots[n]) << n;
  }
}

// Generated proofs verify for every (index, size) and (size1, size2) up to
// 70 leaves — past a 64-leaf perfect tree, so every border shape is hit —
// and against the O(n) reference roots.
TEST(Merkle, GeneratedProofsVerifyForEveryShape) {
  HashTiles tiles;
  std::vector<Hash> leaves;
  std::vector<std::string> roots = {HashBytes(EmptyRoot())};
  for (int i = 0; i < 70; ++i) {
    Hash leaf = LeafHash("leaf " + std::to_string(i));
    tiles.Append(leaf);
    leaves.push_back(leaf);
    roots.push_back(HashBytes(RootAt(tiles, tiles.size()).value()));
    ASSERT_EQ(roots.back(), HashBytes(RootOfLeaves(leaves)));
  }
  auto bytes = [](const std::vector<Hash>& p) {
    std::vector<std::string> out;
    for (const auto& h : p) out.push_back(HashBytes(h));
    return out;
  };
  for (uint64_t size = 1; size <= 70; ++size) {
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = InclusionProof(tiles, i, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyInclusion(i, size, HashBytes(leaves[i]), bytes(*proof), roots[size]).ok())
          << i << "/" << size;
      if (!proof->empty()) {
        auto bad = bytes(*proof);
        bad[0][5] ^= 1;
        ASSERT_FALSE(VerifyInclusion(i, size, HashBytes(leaves[i]), bad, roots[size]).ok());
      }
    }
    for (uint64_t s1 = 1; s1 <= size; ++s1) {
      auto proof = ConsistencyProof(tiles, s1, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(s1, size, roots[s1], roots[size], bytes(*proof)).ok()) << s1 << "->" << size;
      if (s1 < size) {
        ASSERT_FALSE(VerifyConsistency(s1, size, roots[s1 - 1], roots[size], bytes(*proof)).ok());
      }
    }
  }
}

struct CaseCounts {
  int happy = 0, rejected = 0;
};

std::vector<std::string> B64List(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  for (const auto& s : j) {
    auto d = Base64Decode(s.get<std::string>());
    out.push_back(d.ok() ? *d : std::string("not base64"));
  }
  return out;
}
std::string B64(const nlohmann::json& j) {
  auto d = Base64Decode(j.get<std::string>());
  return d.ok() ? *d : std::string("not base64");
}

CaseCounts RunSuite(const std::string& dir, bool inclusion) {
  CaseCounts counts;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (f.path().extension() != ".json") continue;
    auto text = ReadFileToString(f.path().string());
    EXPECT_TRUE(text.ok());
    auto j = nlohmann::json::parse(*text);
    Status s;
    if (inclusion) {
      s = VerifyInclusion(j.at("leafIdx").get<uint64_t>(), j.at("treeSize").get<uint64_t>(), B64(j.at("leafHash")),
                          B64List(j.at("proof")), B64(j.at("root")));
    } else {
      s = VerifyConsistency(j.at("size1").get<uint64_t>(), j.at("size2").get<uint64_t>(), B64(j.at("root1")),
                            B64(j.at("root2")), B64List(j.at("proof")));
    }
    if (j.at("wantErr").get<bool>()) {
      EXPECT_FALSE(s.ok()) << f.path().string() << " must be rejected";
      ++counts.rejected;
    } else {
      EXPECT_TRUE(s.ok()) << f.path() << ": " << s;
      ++counts.happy;
    }
  }
  return counts;
}

TEST(Merkle, SharedInclusionCases) {
  std::string dir = SharedDataDir();
  if (dir.empty()) GTEST_SKIP() << "shared test data not found (set CAIRN_SHARED_DATA)";
  CaseCounts c = RunSuite(dir + "/merkle/inclusion", true);
  EXPECT_GE(c.happy, 5);
  EXPECT_GE(c.rejected, 50);
}

TEST(Merkle, SharedConsistencyCases) {
  std::string dir = SharedDataDir();
  if (dir.empty()) GTEST_SKIP() << "shared test data not found (set CAIRN_SHARED_DATA)";
  CaseCounts c = RunSuite(dir + "/merkle/consistency", false);
  EXPECT_GE(c.happy, 5);
  EXPECT_GE(c.rejected, 50);
}

TEST(HashTiles, ChangedTilesRoundTripThroughStorage) {
  HashTiles tiles;
  std::mt19937 rng(7);
  std::vector<std::pair<TileId, std::string>> stored;
  auto store = [&](uint64_t old_size) {
    for (const TileId& id : tiles.TilesChangedSince(old_size)) {
      bool replaced = false;
      for (auto& [sid, bytes] : stored) {
        if (sid == id) {
          bytes = tiles.TileBytes(id);
          replaced = true;
        }
      }
      if (!replaced) stored.push_back({id, tiles.TileBytes(id)});
    }
  };
  while (tiles.size() < 1000) {
    uint64_t old = tiles.size();
    for (int k = rng() % 300; k >= 0; --k) tiles.Append(LeafHash(std::to_string(tiles.size())));
    store(old);
    auto restored = HashTiles::FromTiles(tiles.size(), stored);
    ASSERT_TRUE(restored.ok()) << restored.status();
    ASSERT_EQ(RootAt(*restored, restored->size()).value(), RootAt(tiles, tiles.size()).value());
  }
  // A flipped byte in any stored hash is caught on load.
  auto corrupt = stored;
  corrupt[1].second[3] ^= 1;
  EXPECT_EQ(HashTiles::FromTiles(tiles.size(), corrupt).status().code(), StatusCode::kDataLoss);
  corrupt = stored;
  corrupt.pop_back();
  EXPECT_EQ(HashTiles::FromTiles(tiles.size(), corrupt).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace cairn::ledger
