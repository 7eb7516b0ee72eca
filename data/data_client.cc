#include "data/data_client.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"

namespace cairn::data {
namespace {

Status FromResponse(const httplib::Result& r, const std::string& what) {
  if (!r) return UnavailableError(what + ": " + httplib::to_string(r.error()));
  if (r->status >= 200 && r->status < 300) return OkStatus();
  std::string msg = r->body;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_string()) msg = j["error"];
  msg = what + ": " + msg;
  switch (r->status) {
    case 400: return InvalidArgumentError(msg);
    case 404: return NotFoundError(msg);
    case 409: return AlreadyExistsError(msg);
    case 412: return FailedPreconditionError(msg);
    case 413: return ResourceExhaustedError(msg);
    case 503: return UnavailableError(msg);
    default: return InternalError(msg + " (HTTP " + std::to_string(r->status) + ")");
  }
}

StatusCode CodeOf(const Status& s) { return s.code(); }
template <typename U>
StatusCode CodeOf(const StatusOr<U>& s) {
  return s.status().code();
}

}  // namespace

DataClient::DataClient(const std::string& host, int port, const std::string& cache_dir)
    : http_(std::make_unique<httplib::Client>(host, port)), where_("http://" + host + ":" + std::to_string(port)) {
  http_->set_connection_timeout(5);
  http_->set_read_timeout(60);
  http_->set_write_timeout(60);
  http_->set_keep_alive(true);
  if (!cache_dir.empty()) {
    auto store = BlobStore::Open(cache_dir);
    if (store.ok()) cache_.emplace(std::move(*store));
  }
}

DataClient::~DataClient() = default;

void DataClient::SetRetry(const Clock* clock, int64_t budget_ms) {
  clock_ = clock;
  retry_budget_ms_ = budget_ms;
}

template <typename T, typename F>
T DataClient::Retrying(F call) {
  T result = call();
  if (clock_ == nullptr || retry_budget_ms_ <= 0) return result;
  const int64_t deadline = clock_->MonotonicNanos() / 1'000'000 + retry_budget_ms_;
  int64_t wait_ms = 200;
  while (CodeOf(result) == StatusCode::kUnavailable) {
    const int64_t left = deadline - clock_->MonotonicNanos() / 1'000'000;
    if (left <= 0) break;
    clock_->SleepFor(std::chrono::milliseconds(std::min(wait_ms, left)));
    wait_ms = std::min<int64_t>(wait_ms * 2, 5000);
    result = call();
  }
  return result;
}

StatusOr<std::string> DataClient::GetJson(const std::string& path) {
  return Retrying<StatusOr<std::string>>([&]() -> StatusOr<std::string> {
    auto r = http_->Get(path);
    RETURN_IF_ERROR(FromResponse(r, "GET " + path + " at " + where_));
    return std::move(r->body);
  });
}

Status DataClient::PutBlob(const std::string& bytes) {
  const std::string hex = HexEncode(DigestView(Sha256(bytes)));
  return Retrying<Status>([&] {
    auto r = http_->Put("/blobs/" + hex, bytes, "application/octet-stream");
    return FromResponse(r, "upload to " + where_);
  });
}

Status DataClient::UploadAll(const std::vector<std::string>& blobs,
                             const std::function<void(size_t, size_t, uint64_t)>& progress) {
  uint64_t sent = 0;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const std::string hex = HexEncode(DigestView(Sha256(blobs[i])));
    auto head = http_->Head("/blobs/" + hex);
    if (!head) return UnavailableError("cannot reach " + where_ + ": " + httplib::to_string(head.error()));
    if (head->status != 200) {
      RETURN_IF_ERROR(PutBlob(blobs[i]));
      sent += blobs[i].size();
    }
    if (progress) progress(i + 1, blobs.size(), sent);
  }
  return OkStatus();
}

StatusOr<std::string> DataClient::GetBlob(const Sha256Digest& hash) {
  if (cache_ && cache_->Has(hash)) {
    auto cached = cache_->Get(hash);
    if (cached.ok()) {
      ++cache_hits_;
      return cached;
    }  // a damaged cache entry is fetched again below
  }
  ASSIGN_OR_RETURN(std::string body, Retrying<StatusOr<std::string>>([&]() -> StatusOr<std::string> {
    auto r = http_->Get("/blobs/" + HexEncode(DigestView(hash)));
    RETURN_IF_ERROR(FromResponse(r, "fetch from " + where_));
    return std::move(r->body);
  }));
  if (Sha256(body) != hash) {
    return DataLossError("blob " + HexEncode(DigestView(hash)) + " from " + where_ + " does not match its hash");
  }
  bytes_fetched_ += body.size();
  if (cache_) (void)cache_->PutExpecting(hash, body);  // a full disk only costs a refetch
  return body;
}

StatusOr<uint64_t> DataClient::Register(const Manifest& manifest, const std::string& signed_entry) {
  nlohmann::json body{{"manifest", nlohmann::json::parse(ManifestToJson(manifest))},
                      {"entry", Base64Encode(signed_entry)}};
  auto r = http_->Post("/datasets", body.dump(), "application/json");
  RETURN_IF_ERROR(FromResponse(r, "register at " + where_));
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("ledger_index")) return InternalError("register: unexpected reply " + r->body);
  return j["ledger_index"].get<uint64_t>();
}

StatusOr<Manifest> DataClient::GetManifest(const std::string& name_or_id) {
  ASSIGN_OR_RETURN(std::string body, Retrying<StatusOr<std::string>>([&]() -> StatusOr<std::string> {
    auto r = http_->Get("/datasets/" + name_or_id);
    RETURN_IF_ERROR(FromResponse(r, "dataset '" + name_or_id + "' at " + where_));
    return std::move(r->body);
  }));
  return ParseManifest(body);  // checks the Merkle root
}

StatusOr<std::string> DataClient::ListJson() {
  auto r = http_->Get("/datasets");
  RETURN_IF_ERROR(FromResponse(r, "list datasets at " + where_));
  return r->body;
}

}  // namespace cairn::data
