// C2SP tlog-tiles paths (https://c2sp.org/tlog-tiles):
//   tile/<L>/<N>[.p/<W>]        hash tile: level L (tree level 8L), index N
//   tile/entries/<N>[.p/<W>]    entry bundle N
// N is written in 3-digit groups, all but the last prefixed with "x"
// (1234067 -> x001/x234/067); W (1..255) marks a partial tile.
// Thread safety: pure functions.
#ifndef CAIRN_LEDGER_TILE_PATH_H_
#define CAIRN_LEDGER_TILE_PATH_H_

#include <cstdint>
#include <string>

#include "runtime/base/statusor.h"

namespace cairn::ledger {

struct TilePath {
  bool entries = false;  // an entry bundle rather than a hash tile
  int level = 0;         // tile level L (hash tiles only)
  uint64_t index = 0;
  int width = 256;       // 256 for a full tile
  std::string ToString() const;  // without a leading slash
};

// Parses a path after "tile/" has been found, e.g. "0/x001/234.p/7" or
// "entries/005". InvalidArgument naming the problem for anything the spec
// does not allow (leading zeros in L or W, a bad group, W outside 1..255,
// an index past 2^63).
StatusOr<TilePath> ParseTilePath(const std::string& rest);
std::string EncodeTileIndex(uint64_t index);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_TILE_PATH_H_
