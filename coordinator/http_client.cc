#include "coordinator/http_client.h"

#include <httplib.h>

#include "data/data_client.h"
#include "runtime/crypto/request_signature.h"

namespace cairn::coordinator {
namespace {

Status FromStatus(int status, const std::string& message) {
  switch (status) {
    case 400: return InvalidArgumentError(message);
    case 401: return UnauthenticatedError(message);
    case 402: return ResourceExhaustedError(message);
    case 403: return PermissionDeniedError(message);
    case 404: return NotFoundError(message);
    case 409: return AlreadyExistsError(message);
    case 503: return UnavailableError(message);
    default: return InternalError(message + " (HTTP " + std::to_string(status) + ")");
  }
}

}  // namespace

CoordinatorHttpClient::CoordinatorHttpClient(const std::string& host, int port)
    : host_(host == "localhost" ? "127.0.0.1" : host), port_(port), http_(std::make_unique<httplib::Client>(host_, port)) {
  http_->set_connection_timeout(5);
}

CoordinatorHttpClient::~CoordinatorHttpClient() = default;

StatusOr<nlohmann::json> CoordinatorHttpClient::GetJson(const std::string& path) {
  return Call("GET", path, "", nullptr);
}

StatusOr<nlohmann::json> CoordinatorHttpClient::Call(const std::string& method, const std::string& path,
                                                    const std::string& body, const Ed25519PrivateKey* signer,
                                                    const Clock* clock) {
  httplib::Headers headers;
  if (signer != nullptr) {
    ASSIGN_OR_RETURN(std::string sig, SignRequest(*signer, method, path, body, clock->NowUnixMillis()));
    headers.emplace(kSignatureHeader, sig);
  }
  auto r = method == "GET" ? http_->Get(path, headers) : http_->Post(path, headers, body, "application/json");
  if (!r) return UnavailableError("cannot reach the coordinator at http://" + host_ + ":" + std::to_string(port_));
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200) {
    const bool has_error = j.is_object() && j.contains("error") && j["error"].is_string();
    return FromStatus(r->status, has_error ? j["error"].get<std::string>() : r->body.substr(0, 300));
  }
  if (j.is_discarded()) return InternalError("the coordinator's answer to " + path + " is not JSON");
  return j;
}

StatusOr<std::string> CoordinatorHttpClient::CoordinatorKeyHex() {
  auto r = http_->Get("/coordinator-key");
  if (!r) return UnavailableError("cannot reach http://" + host_ + ":" + std::to_string(port_) + "/coordinator-key");
  if (r->status != 200) return FromStatus(r->status, r->body.substr(0, 300));
  return r->body.substr(0, r->body.find('\n'));
}

StatusOr<std::string> CoordinatorHttpClient::Blob(const Sha256Digest& hash) {
  data::DataClient client(host_, port_, "");
  return client.GetBlob(hash);  // verified against the hash
}

}  // namespace cairn::coordinator
