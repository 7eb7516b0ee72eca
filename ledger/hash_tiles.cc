#include "ledger/hash_tiles.h"

#include <cstring>

namespace cairn::ledger {

void HashTiles::Append(const Hash& leaf) {
  if (levels_.empty()) levels_.emplace_back();
  levels_[0].push_back(leaf);
  // Each time a node is the right child, its parent is complete.
  for (size_t h = 0; levels_[h].size() % 2 == 0; ++h) {
    const auto& row = levels_[h];
    Hash parent = NodeHash(row[row.size() - 2], row[row.size() - 1]);
    if (levels_.size() == h + 1) levels_.emplace_back();
    levels_[h + 1].push_back(parent);
  }
}

void HashTiles::Truncate(uint64_t size) {
  for (size_t h = 0; h < levels_.size(); ++h) {
    if (levels_[h].size() > (size >> h)) levels_[h].resize(size >> h);
  }
  while (!levels_.empty() && levels_.back().empty()) levels_.pop_back();
}

StatusOr<Hash> HashTiles::Node(int level, uint64_t index) const {
  if (level < 0 || static_cast<size_t>(level) >= levels_.size() || index >= levels_[level].size()) {
    return NotFoundError("no complete node at level " + std::to_string(level) + " index " + std::to_string(index));
  }
  return levels_[level][index];
}

std::vector<TileId> HashTiles::TilesChangedSince(uint64_t old_size) const {
  std::vector<TileId> out;
  for (size_t h = 0; h < levels_.size(); ++h) {
    uint64_t old_nodes = old_size >> h;
    uint64_t new_nodes = levels_[h].size();
    if (new_nodes <= old_nodes) continue;
    for (uint64_t t = old_nodes / kTileWidth; t <= (new_nodes - 1) / kTileWidth; ++t) {
      out.push_back(TileId{static_cast<int>(h), t});
    }
  }
  return out;
}

std::string HashTiles::TileBytes(const TileId& id) const {
  if (id.level < 0 || static_cast<size_t>(id.level) >= levels_.size()) return "";
  const auto& row = levels_[id.level];
  uint64_t begin = id.index * kTileWidth;
  if (begin >= row.size()) return "";
  uint64_t end = std::min<uint64_t>(row.size(), begin + kTileWidth);
  std::string out((end - begin) * 32, '\0');
  std::memcpy(out.data(), row[begin].data(), out.size());
  return out;
}

StatusOr<HashTiles> HashTiles::FromTiles(uint64_t size, const std::vector<std::pair<TileId, std::string>>& tiles) {
  HashTiles t;
  for (size_t h = 0; h < 64 && (size >> h) > 0; ++h) {
    t.levels_.emplace_back();
    t.levels_[h].resize(size >> h);
  }
  std::vector<std::vector<bool>> seen(t.levels_.size());
  for (size_t h = 0; h < t.levels_.size(); ++h) seen[h].resize((t.levels_[h].size() + kTileWidth - 1) / kTileWidth);
  for (const auto& [id, bytes] : tiles) {
    if (id.level < 0 || static_cast<size_t>(id.level) >= t.levels_.size()) continue;  // beyond this size
    auto& row = t.levels_[id.level];
    uint64_t begin = id.index * kTileWidth;
    if (begin >= row.size()) continue;
    uint64_t want = std::min<uint64_t>(kTileWidth, row.size() - begin);
    if (bytes.size() < want * 32 || bytes.size() % 32 != 0) {
      return DataLossError("tile " + std::to_string(id.level) + "/" + std::to_string(id.index) + " has " +
                           std::to_string(bytes.size()) + " bytes; a tree of size " + std::to_string(size) +
                           " needs " + std::to_string(want * 32));
    }
    std::memcpy(row[begin].data(), bytes.data(), want * 32);
    seen[id.level][id.index] = true;
  }
  for (size_t h = 0; h < seen.size(); ++h) {
    for (size_t i = 0; i < seen[h].size(); ++i) {
      if (!seen[h][i]) return DataLossError("tile " + std::to_string(h) + "/" + std::to_string(i) + " is missing");
    }
  }
  // Check every stored parent against its children: a corrupted hash is
  // found here rather than served.
  for (size_t h = 1; h < t.levels_.size(); ++h) {
    for (size_t i = 0; i < t.levels_[h].size(); ++i) {
      if (NodeHash(t.levels_[h - 1][2 * i], t.levels_[h - 1][2 * i + 1]) != t.levels_[h][i]) {
        return DataLossError("stored node " + std::to_string(h) + "/" + std::to_string(i) +
                             " does not match its children");
      }
    }
  }
  return t;
}

}  // namespace cairn::ledger
