#include "ledger/http_api.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "ledger/entry_json.h"
#include "ledger/log.h"
#include "ledger/tile_path.h"
#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

using nlohmann::json;

constexpr char kImmutable[] = "public, max-age=31536000, immutable";

void Error(httplib::Response& res, int code, const std::string& message) {
  res.status = code;
  res.set_content(json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

int HttpCode(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound:
    case StatusCode::kOutOfRange: return 404;
    case StatusCode::kInvalidArgument: return 400;
    default: return 500;
  }
}

json HashList(const std::vector<Hash>& hashes) {
  json out = json::array();
  for (const auto& h : hashes) out.push_back(Base64Encode(DigestView(h)));
  return out;
}

StatusOr<uint64_t> ParseIndex(const std::string& s, const char* what) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError(std::string(what) + " must be a decimal number");
  }
  return std::stoull(s);
}

void ServeTile(Log* log, const std::string& rest, httplib::Response& res) {
  auto path = ParseTilePath(rest);
  if (!path.ok()) return Error(res, 400, path.status().message());
  uint64_t size = log->Published().first;
  uint64_t first = path->index * kTileWidth;
  std::string body;
  if (path->entries) {
    if (first + static_cast<uint64_t>(path->width) > size) return Error(res, 404, "entry bundle not available yet");
    auto entries = log->store().Entries(first, static_cast<uint64_t>(path->width));
    if (!entries.ok()) return Error(res, 500, entries.status().message());
    for (const std::string& e : *entries) {
      body += static_cast<char>(e.size() >> 8);
      body += static_cast<char>(e.size() & 0xff);
      body += e;
    }
  } else {
    std::string bytes = log->TileBytes(TileId{path->level * 8, path->index});
    size_t want = static_cast<size_t>(path->width) * 32;
    if (bytes.size() < want) return Error(res, 404, "tile not available yet");
    body = bytes.substr(0, want);
  }
  res.set_header("Cache-Control", kImmutable);
  res.set_content(body, "application/octet-stream");
}

}  // namespace

void InstallReadApi(httplib::Server* server, Log* log) {
  server->Get("/checkpoint", [log](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content(log->checkpoint(), "text/plain; charset=utf-8");
  });
  server->Get("/vkey", [log](const httplib::Request&, httplib::Response& res) {
    res.set_content(log->verifier().ToString() + "\n", "text/plain; charset=utf-8");
  });
  server->Get(R"(/tile/(.+))", [log](const httplib::Request& req, httplib::Response& res) {
    ServeTile(log, req.matches[1], res);
  });
  server->Get(R"(/entry/([^/]+))", [log](const httplib::Request& req, httplib::Response& res) {
    auto index = ParseIndex(req.matches[1], "entry index");
    if (!index.ok()) return Error(res, 400, index.status().message());
    auto [size, note] = log->Published();
    if (*index >= size) return Error(res, 404, "entry " + std::to_string(*index) + " is past the end of the log (" + std::to_string(size) + ")");
    auto entry = log->store().Entry(*index);
    if (!entry.ok()) return Error(res, HttpCode(entry.status()), entry.status().message());
    auto decoded = EntryToJson(*entry);
    auto proof = log->InclusionProof(*index, size);
    if (!decoded.ok() || !proof.ok()) return Error(res, 500, "entry " + std::to_string(*index) + " cannot be decoded");
    json out = {{"index", *index},
                {"tree_size", size},
                {"entry", Base64Encode(*entry)},
                {"leaf_hash", Base64Encode(DigestView(LeafHash(*entry)))},
                {"decoded", *decoded},
                {"inclusion_proof", HashList(*proof)},
                {"checkpoint", note}};
    res.set_content(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
  });
  server->Get("/proof/consistency", [log](const httplib::Request& req, httplib::Response& res) {
    auto [size, note] = log->Published();
    auto from = ParseIndex(req.get_param_value("from"), "from");
    if (!from.ok()) return Error(res, 400, from.status().message());
    uint64_t to = size;
    if (req.has_param("to")) {
      auto t = ParseIndex(req.get_param_value("to"), "to");
      if (!t.ok()) return Error(res, 400, t.status().message());
      to = *t;
    }
    auto proof = log->ConsistencyProof(*from, to);
    if (!proof.ok()) return Error(res, HttpCode(proof.status()), proof.status().message());
    json out = {{"from", *from}, {"to", to}, {"proof", HashList(*proof)}, {"checkpoint", note}};
    res.set_content(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
  });
}

}  // namespace cairn::ledger
