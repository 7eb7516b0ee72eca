#include "ledger/read_api_client.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

std::vector<std::string> Strings(const nlohmann::json& list) {
  std::vector<std::string> out;
  if (!list.is_array()) return out;
  for (const auto& h : list) out.push_back(h.is_string() ? h.get<std::string>() : "");
  return out;
}

}  // namespace

ReadApiClient::ReadApiClient(const std::string& url) : url_(url), http_(std::make_unique<httplib::Client>(url)) {
  http_->set_connection_timeout(5);
}

ReadApiClient::~ReadApiClient() = default;

StatusOr<std::string> ReadApiClient::Get(const std::string& path) {
  auto res = http_->Get(path.c_str());
  if (!res) return UnavailableError("GET " + url_ + path + ": " + httplib::to_string(res.error()));
  if (res->status != 200) {
    return UnavailableError("GET " + url_ + path + " answered " + std::to_string(res->status) + ": " + res->body.substr(0, 200));
  }
  return std::move(res->body);
}

StatusOr<std::string> ReadApiClient::VerifierKey() {
  ASSIGN_OR_RETURN(std::string body, Get("/vkey"));
  return body.substr(0, body.find('\n'));
}

StatusOr<ProvenEntry> ReadApiClient::Entry(uint64_t index) {
  ASSIGN_OR_RETURN(std::string body, Get("/entry/" + std::to_string(index)));
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return DataLossError("the server sent malformed JSON for entry " + std::to_string(index));
  ProvenEntry p;
  auto entry = Base64Decode(j.value("entry", ""));
  if (!entry.ok()) return DataLossError("entry " + std::to_string(index) + " is not base64");
  p.entry = std::move(*entry);
  p.proof = Strings(j.value("inclusion_proof", nlohmann::json::array()));
  p.checkpoint = j.value("checkpoint", "");
  return p;
}

StatusOr<std::vector<std::string>> ReadApiClient::ConsistencyProof(uint64_t from, uint64_t to) {
  ASSIGN_OR_RETURN(std::string body, Get("/proof/consistency?from=" + std::to_string(from) + "&to=" + std::to_string(to)));
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return DataLossError("the server sent malformed JSON for a consistency proof");
  return Strings(j.value("proof", nlohmann::json::array()));
}

}  // namespace cairn::ledger
