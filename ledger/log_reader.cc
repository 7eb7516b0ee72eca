#include "ledger/log_reader.h"

#include <httplib.h>

#include "ledger/tile_path.h"

namespace cairn::ledger {
namespace {

class StoreReader final : public LogReader {
 public:
  StoreReader(const LedgerStore* store, std::string where) : store_(store), where_(std::move(where)) {}
  StatusOr<std::string> Checkpoint() override { return store_->LatestCheckpoint(); }
  StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) override {
    return store_->Entries(first, count);
  }
  StatusOr<std::string> HashTile(int level, uint64_t index, int width) override {
    ASSIGN_OR_RETURN(std::string bytes, store_->Tile(TileId{level, index}));
    if (bytes.size() < static_cast<size_t>(width) * 32) {
      return NotFoundError("tile " + std::to_string(level) + "/" + std::to_string(index) + " holds " +
                           std::to_string(bytes.size() / 32) + " hashes, " + std::to_string(width) + " wanted");
    }
    return bytes.substr(0, static_cast<size_t>(width) * 32);
  }
  bool HasLevel(int) const override { return true; }
  std::string Where() const override { return where_; }

 private:
  const LedgerStore* store_;
  std::string where_;
};

class HttpReader final : public LogReader {
 public:
  explicit HttpReader(const std::string& url) : url_(url), client_(url) {
    client_.set_connection_timeout(5);
    client_.set_read_timeout(30);
    client_.set_keep_alive(true);
  }
  StatusOr<std::string> Checkpoint() override { return Get("/checkpoint"); }
  StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) override {
    std::vector<std::string> out;
    while (out.size() < count) {
      uint64_t i = first + out.size();
      uint64_t bundle = i / kTileWidth;
      uint64_t want_end = std::min<uint64_t>((bundle + 1) * kTileWidth, first + count);
      // Ask for the full bundle when it is wanted up to its end; else partial.
      int width = want_end == (bundle + 1) * kTileWidth ? 256 : static_cast<int>(want_end - bundle * kTileWidth);
      ASSIGN_OR_RETURN(std::string body, Get("/" + TilePath{true, 0, bundle, width}.ToString()));
      std::vector<std::string> entries;
      size_t pos = 0;
      while (pos < body.size()) {
        if (pos + 2 > body.size()) return DataLossError("entry bundle " + std::to_string(bundle) + " is truncated");
        size_t n = static_cast<unsigned char>(body[pos]) << 8 | static_cast<unsigned char>(body[pos + 1]);
        if (pos + 2 + n > body.size()) return DataLossError("entry bundle " + std::to_string(bundle) + " is truncated");
        entries.push_back(body.substr(pos + 2, n));
        pos += 2 + n;
      }
      if (entries.size() != static_cast<size_t>(width)) {
        return DataLossError("entry bundle " + std::to_string(bundle) + " has " + std::to_string(entries.size()) +
                             " entries, " + std::to_string(width) + " expected");
      }
      for (uint64_t k = i - bundle * kTileWidth; k < entries.size() && out.size() < count; ++k) {
        out.push_back(std::move(entries[k]));
      }
    }
    return out;
  }
  StatusOr<std::string> HashTile(int level, uint64_t index, int width) override {
    if (level % 8 != 0) return InvalidArgumentError("remote logs serve only tree levels that are multiples of 8");
    ASSIGN_OR_RETURN(std::string body, Get("/" + TilePath{false, level / 8, index, width}.ToString()));
    if (body.size() != static_cast<size_t>(width) * 32) {
      return DataLossError("hash tile " + std::to_string(level / 8) + "/" + std::to_string(index) + " has " +
                           std::to_string(body.size()) + " bytes");
    }
    return body;
  }
  bool HasLevel(int level) const override { return level % 8 == 0; }
  std::string Where() const override { return url_; }

 private:
  StatusOr<std::string> Get(const std::string& path) {
    auto res = client_.Get(path.c_str());
    if (!res) return UnavailableError("GET " + url_ + path + ": " + httplib::to_string(res.error()));
    if (res->status == 404) return NotFoundError("GET " + url_ + path + ": 404 " + res->body);
    if (res->status != 200) {
      return UnavailableError("GET " + url_ + path + ": HTTP " + std::to_string(res->status) + " " + res->body);
    }
    return res->body;
  }
  std::string url_;
  httplib::Client client_;
};

}  // namespace

std::unique_ptr<LogReader> NewStoreReader(const LedgerStore* store, std::string where) {
  return std::make_unique<StoreReader>(store, std::move(where));
}

StatusOr<std::unique_ptr<LogReader>> NewHttpReader(const std::string& url) {
  if (url.rfind("http://", 0) != 0 || url.size() <= 7 || url.find('/', 7) != std::string::npos) {
    return InvalidArgumentError("ledger URL must be http://host[:port], got '" + url + "'");
  }
  return std::unique_ptr<LogReader>(new HttpReader(url));
}

}  // namespace cairn::ledger
