#include "worker/coordinator_http.h"

#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"

namespace cairn::worker {

CoordinatorHttp::CoordinatorHttp(const CoordinatorHttpOptions& o) : data_(o.host, o.port, o.cache_dir) {
  data_.SetRetry(o.clock, o.retry_budget_ms);
}

StatusOr<Sha256Digest> CoordinatorHttp::BlobOf(const std::string& json, const std::string& what) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("blob") || !j["blob"].is_string()) {
    return InternalError("unexpected reply for " + what + ": " + json.substr(0, 200));
  }
  return DigestFromHex(j["blob"].get<std::string>(), what + ".blob");
}

StatusOr<std::string> CoordinatorHttp::Checkpoint(const std::string& job_id, uint64_t round) {
  auto reply = data_.GetJson("/jobs/" + job_id + "/checkpoint?round=" + std::to_string(round));
  if (reply.status().code() == StatusCode::kNotFound) {
    return NotFoundError("the coordinator has no checkpoint of round " + std::to_string(round) + " for " + job_id);
  }
  RETURN_IF_ERROR(reply.status());
  ASSIGN_OR_RETURN(Sha256Digest hash, BlobOf(*reply, "the checkpoint of " + job_id));
  return data_.GetBlob(hash);
}

StatusOr<RegisteredModel> CoordinatorHttp::Model(const std::string& name) {
  auto reply = data_.GetJson("/models/" + name);
  if (reply.status().code() == StatusCode::kNotFound) {
    return NotFoundError("model '" + name + "' is not registered (cairn models list)");
  }
  RETURN_IF_ERROR(reply.status());
  RegisteredModel m;
  ASSIGN_OR_RETURN(m.hash, BlobOf(*reply, "model '" + name + "'"));
  ASSIGN_OR_RETURN(m.torchscript, data_.GetBlob(m.hash));
  return m;
}

StatusOr<std::string> CoordinatorHttp::JobSpec(const std::string& job_id) {
  ASSIGN_OR_RETURN(std::string reply, data_.GetJson("/jobs/" + job_id + "/spec"));
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (!j.is_object() || !j.contains("spec") || !j["spec"].is_string()) {
    return InternalError("unexpected reply for the spec of " + job_id + ": " + reply.substr(0, 200));
  }
  return j["spec"].get<std::string>();
}

StatusOr<std::string> CoordinatorHttp::Entry(uint64_t index) {
  ASSIGN_OR_RETURN(std::string reply, data_.GetJson("/entry/" + std::to_string(index)));
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (!j.is_object() || !j.contains("entry") || !j["entry"].is_string()) {
    return InternalError("unexpected reply for ledger entry " + std::to_string(index) + ": " + reply.substr(0, 200));
  }
  auto bytes = Base64Decode(j["entry"].get<std::string>());
  if (!bytes.ok()) return InternalError("ledger entry " + std::to_string(index) + " is not base64");
  return *bytes;
}

}  // namespace cairn::worker
