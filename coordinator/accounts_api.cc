#include "coordinator/accounts_api.h"

#include <memory>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"
#include "runtime/crypto/replay_cache.h"
#include "runtime/crypto/request_signature.h"
#include "coordinator/coordinator.h"

namespace cairn::coordinator {
namespace {

using nlohmann::json;


void Error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", message}}.dump() + "\n", "application/json");
}

// The verified signer of `req` (each signed request works once), or an error
// response.
StatusOr<std::string> Signer(const httplib::Request& req, ReplayCache& replay) {
  ASSIGN_OR_RETURN(VerifiedSigner s, replay.Verify(req.get_header_value(kSignatureHeader), req.method, req.path, req.body));
  return s.public_key;
}

}  // namespace

void InstallAccountsApi(httplib::Server* http, Coordinator* c) {
  auto replay = std::make_shared<ReplayCache>(c->clock());
  http->Post("/accounts/credit", [c, replay](const httplib::Request& req, httplib::Response& res) {
    auto signer = Signer(req, *replay);
    if (!signer.ok()) return Error(res, HttpStatusOf(signer.status()), std::string(signer.status().message()));
    if (*signer != c->operator_key()) {
      return Error(res, 403, "only the coordinator's operator (its log key) can credit accounts");
    }
    json j = json::parse(req.body, nullptr, false);
    if (!j.is_object()) return Error(res, 400, "the body must be a JSON object");
    auto account = DecodeAccount(j.value("account", ""));
    if (!account.ok()) return Error(res, 400, std::string(account.status().message()));
    if (!j.contains("amount_micros") || !j["amount_micros"].is_number_unsigned() || j["amount_micros"].get<uint64_t>() == 0) {
      return Error(res, 400, "amount_micros: must be a positive integer");
    }
    const std::string memo = j.contains("memo") && j["memo"].is_string() ? j["memo"].get<std::string>() : "";
    if (memo.size() > 256) return Error(res, 400, "memo: longer than 256 bytes");
    auto index = c->Credit(*account, j["amount_micros"].get<uint64_t>(), memo);
    if (!index.ok()) return Error(res, HttpStatusOf(index.status()), std::string(index.status().message()));
    res.set_content(json{{"entry", *index}, {"account", HexEncode(*account)},
                         {"available_micros", c->balances().Available(*account)}}.dump() + "\n",
                    "application/json");
  });
  http->Post("/api-keys", [c, replay](const httplib::Request& req, httplib::Response& res) {
    auto signer = Signer(req, *replay);
    if (!signer.ok()) return Error(res, HttpStatusOf(signer.status()), std::string(signer.status().message()));
    json j = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (!j.is_object()) return Error(res, 400, "the body must be a JSON object");
    const std::string name = j.contains("name") && j["name"].is_string() ? j["name"].get<std::string>() : "";
    auto key = c->api_keys().Create(*signer, name);
    if (!key.ok()) return Error(res, HttpStatusOf(key.status()), std::string(key.status().message()));
    res.set_content(json{{"key", *key}, {"account", HexEncode(*signer)}, {"name", name}}.dump() + "\n", "application/json");
  });
  http->Get(R"(/accounts/([0-9a-fA-F]{64}))", [c](const httplib::Request& req, httplib::Response& res) {
    auto account = DecodeAccount(std::string(req.matches[1]));
    if (!account.ok()) return Error(res, 400, std::string(account.status().message()));
    // Each kind of earning (compute, data, finetune fee, refund, serving,
    // royalty, ...) with the ledger entries it came from (the latest 20).
    json earned = json::object(), entries = json::object();
    for (const auto& e : c->balances().Earnings()) {
      if (e.account != *account) continue;
      earned[e.reason] = earned.value(e.reason, uint64_t{0}) + e.micros;
      json& list = entries[e.reason];
      if (list.is_null()) list = json::array();
      if (list.empty() || list.back() != e.entry_index) list.push_back(e.entry_index);
      if (list.size() > 20) list.erase(list.begin());
    }
    res.set_content(json{{"account", HexEncode(*account)},
                         {"available_micros", c->balances().Available(*account)},
                         {"escrow_micros", c->balances().EscrowOf(*account)},
                         {"earned_micros", earned},
                         {"entries", entries}}.dump() + "\n",
                    "application/json");
  });
}

}  // namespace cairn::coordinator
