#include "data/http_api.h"

#include <nlohmann/json.hpp>

#include "data/blob_store.h"
#include "runtime/base/encoding.h"

namespace cairn::data {
namespace {

void Error(httplib::Response& res, const Status& s) {
  res.status = HttpStatusFor(s);
  res.set_content(nlohmann::json{{"error", std::string(s.message())}}.dump(-1, ' ', true,
                                                                         nlohmann::json::error_handler_t::replace) +
                      "\n",
                  "application/json");
}

StatusOr<Sha256Digest> HashFromPath(const std::string& hex) {
  auto d = DigestFromHex(hex, "blob path");
  if (!d.ok()) return InvalidArgumentError("blob path must be 64 lower-case hex digits");
  return d;
}

}  // namespace

int HttpStatusFor(const Status& s) {
  switch (s.code()) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnauthenticated: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 412;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

void InstallDataApi(httplib::Server* server, DatasetRegistry* registry) {
  server->set_payload_max_length(kMaxBlobBytes + (1 << 20));
  server->Get(R"(/blobs/([0-9a-f]{64}))", [registry](const httplib::Request& req, httplib::Response& res) {
    auto hash = HashFromPath(req.matches[1]);
    if (!hash.ok()) return Error(res, hash.status());
    auto bytes = registry->blobs().Get(*hash);
    if (!bytes.ok()) return Error(res, bytes.status());
    res.set_header("Cache-Control", "public, max-age=31536000, immutable");
    res.set_content(std::move(*bytes), "application/octet-stream");
  });
  server->Put(R"(/blobs/([0-9a-f]{64}))", [registry](const httplib::Request& req, httplib::Response& res) {
    auto hash = HashFromPath(req.matches[1]);
    if (!hash.ok()) return Error(res, hash.status());
    if (req.body.size() > kMaxBlobBytes) {
      return Error(res, ResourceExhaustedError("blob of " + std::to_string(req.body.size()) + " bytes exceeds " +
                                               std::to_string(kMaxBlobBytes)));
    }
    const bool had = registry->blobs().Has(*hash);
    Status s = registry->blobs().PutExpecting(*hash, req.body);
    if (!s.ok()) return Error(res, s);
    res.status = had ? 200 : 201;
  });
  server->Post("/datasets", [registry](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("manifest") || !j.contains("entry") ||
        !j["entry"].is_string()) {
      return Error(res, InvalidArgumentError("body must be JSON {\"manifest\": {...}, \"entry\": \"<base64>\"}"));
    }
    auto manifest = ParseManifest(j["manifest"].dump());
    if (!manifest.ok()) return Error(res, manifest.status());
    auto entry = Base64Decode(j["entry"].get<std::string>());
    if (!entry.ok()) return Error(res, InvalidArgumentError("entry is not base64"));
    auto d = registry->Register(*manifest, *entry);
    if (!d.ok()) return Error(res, d.status());
    res.status = 201;
    res.set_content(nlohmann::json{{"name", d->name}, {"dataset_id", HexEncode(DigestView(d->id))},
                                   {"ledger_index", d->ledger_index}}.dump() + "\n",
                    "application/json");
  });
  server->Get("/datasets", [registry](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& d : registry->List()) {
      out.push_back({{"name", d.name}, {"dataset_id", HexEncode(DigestView(d.id))},
                     {"contributor", HexEncode(d.contributor)}, {"ledger_index", d.ledger_index}});
    }
    res.set_content(out.dump(1) + "\n", "application/json");
  });
  server->Get(R"(/datasets/([A-Za-z0-9._-]{1,64}))", [registry](const httplib::Request& req, httplib::Response& res) {
    auto m = registry->LoadManifest(req.matches[1]);
    if (!m.ok()) return Error(res, m.status());
    res.set_content(ManifestToJson(*m), "application/json");
  });
}

}  // namespace cairn::data
