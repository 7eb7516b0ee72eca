#include "ledger/tile_path.h"

#include <vector>

namespace cairn::ledger {
namespace {

bool AllDigits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

StatusOr<int> SmallDecimal(const std::string& s, int max, const char* what) {
  if (!AllDigits(s) || s.size() > 3 || (s.size() > 1 && s[0] == '0')) {
    return InvalidArgumentError(std::string(what) + " '" + s + "' is not a canonical decimal");
  }
  int v = std::stoi(s);
  if (v > max) return InvalidArgumentError(std::string(what) + " " + s + " is out of range");
  return v;
}

}  // namespace

std::string EncodeTileIndex(uint64_t index) {
  std::vector<std::string> groups;
  do {
    char buf[4];
    std::snprintf(buf, sizeof(buf), "%03u", static_cast<unsigned>(index % 1000));
    groups.push_back(buf);
    index /= 1000;
  } while (index > 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 0;) {
    if (!out.empty()) out += "/";
    if (i > 0) out += "x";
    out += groups[i];
  }
  return out;
}

std::string TilePath::ToString() const {
  std::string out = "tile/" + (entries ? std::string("entries") : std::to_string(level)) + "/" + EncodeTileIndex(index);
  if (width < 256) out += ".p/" + std::to_string(width);
  return out;
}

StatusOr<TilePath> ParseTilePath(const std::string& rest) {
  if (rest.size() > 128) return InvalidArgumentError("tile path is too long");
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t slash = rest.find('/', start);
    parts.push_back(rest.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  TilePath p;
  if (parts.size() < 2) return InvalidArgumentError("tile path needs a level and an index");
  if (parts[0] == "entries") {
    p.entries = true;
  } else {
    ASSIGN_OR_RETURN(p.level, SmallDecimal(parts[0], 63, "tile level"));
  }
  size_t n = parts.size();
  // A partial tile ends in ".p/<W>": the last group carries ".p".
  if (n >= 3 && parts[n - 2].size() > 2 && parts[n - 2].compare(parts[n - 2].size() - 2, 2, ".p") == 0) {
    ASSIGN_OR_RETURN(p.width, SmallDecimal(parts[n - 1], 255, "partial tile width"));
    if (p.width == 0) return InvalidArgumentError("partial tile width must be 1..255");
    parts[n - 2].resize(parts[n - 2].size() - 2);
    parts.pop_back();
    n = parts.size();
  }
  if (n - 1 > 7) return InvalidArgumentError("tile index has too many groups");
  uint64_t index = 0;
  for (size_t i = 1; i < n; ++i) {
    std::string g = parts[i];
    bool last = i == n - 1;
    if (!last) {
      if (g.size() != 4 || g[0] != 'x') return InvalidArgumentError("tile index group '" + g + "' must be x<3 digits>");
      g = g.substr(1);
    }
    if (g.size() != 3 || !AllDigits(g)) return InvalidArgumentError("tile index group '" + parts[i] + "' must be 3 digits");
    if (i == 1 && !last && g == "000") return InvalidArgumentError("tile index has a leading zero group");
    index = index * 1000 + static_cast<uint64_t>(std::stoi(g));
  }
  if (index >= (uint64_t{1} << 63) / 256) return InvalidArgumentError("tile index is out of range");
  p.index = index;
  return p;
}

}  // namespace cairn::ledger
