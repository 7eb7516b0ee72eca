// HashTiles: every perfect-subtree hash of the log, kept level by level and
// organised in tiles of 256 hashes (tile t of level h holds nodes
// [256t, 256t+256) of tree level h). Appending a leaf computes the O(log n)
// nodes it completes; any node is one lookup, so a proof reads O(log n)
// stored hashes. Tree levels 0, 8, 16, ... are exactly the C2SP tlog-tiles
// hash tiles (tile level L = tree level 8L); the levels between are stored
// too so proofs never recompute inside a tile.
// Thread safety: none; the Ledger serialises access.
#ifndef CAIRN_LEDGER_HASH_TILES_H_
#define CAIRN_LEDGER_HASH_TILES_H_

#include <vector>

#include "ledger/merkle.h"

namespace cairn::ledger {

inline constexpr uint64_t kTileWidth = 256;

struct TileId {
  int level;       // tree level (0 = leaves)
  uint64_t index;  // tile index within the level
  friend bool operator==(const TileId& a, const TileId& b) { return a.level == b.level && a.index == b.index; }
};

class HashTiles : public NodeSource {
 public:
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }

  // Appends one leaf hash and every node it completes.
  void Append(const Hash& leaf);
  // Drops every node not in the tree of the first `size` leaves (undoes
  // appends whose batch failed to store).
  void Truncate(uint64_t size);
  StatusOr<Hash> Node(int level, uint64_t index) const override;

  // The tiles that hold nodes added while the tree grew from `old_size`
  // leaves to size().
  std::vector<TileId> TilesChangedSince(uint64_t old_size) const;
  // A tile's hashes, concatenated (32 bytes each; fewer than 256 if partial).
  std::string TileBytes(const TileId& id) const;
  // Rebuilds from stored tiles: `tiles` must hold every tile of a tree of
  // `size` leaves. DataLoss if one is missing, short or inconsistent.
  static StatusOr<HashTiles> FromTiles(uint64_t size, const std::vector<std::pair<TileId, std::string>>& tiles);

 private:
  std::vector<std::vector<Hash>> levels_;  // levels_[h][i] = node (h, i)
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_HASH_TILES_H_
