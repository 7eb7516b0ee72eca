#include "coordinator/http_routes.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "coordinator/coordinator.h"
#include "runtime/base/encoding.h"

namespace cairn::coordinator {
namespace {

constexpr char kJson[] = "application/json";

nlohmann::json ModelJson(const ModelRef& m, uint64_t finetune_fee) {
  nlohmann::json ds = nlohmann::json::array();
  for (const auto& d : m.datasets) ds.push_back(HexEncode(d));
  return nlohmann::json{{"name", m.name}, {"blob", HexEncode(m.blob)},     {"job", m.job_id},
                        {"license", m.license}, {"parent", HexEncode(m.parent)}, {"datasets", ds},
                        {"author", HexEncode(m.author)}, {"ledger_index", m.ledger_index},
                        {"terms", {{"finetune_fee_micros", finetune_fee}}}};
}

}  // namespace

void InstallCoordinatorRoutes(httplib::Server* http, Coordinator* c) {
  http->Get(R"(/jobs/([A-Za-z0-9._-]{1,128})/checkpoint)", [c](const httplib::Request& req, httplib::Response& res) {
    // ?round=R: that round's (what a resumed attempt starts from); else the furthest.
    uint64_t round = 0;
    if (req.has_param("round")) {
      const std::string r = req.get_param_value("round");
      if (r.empty() || r.size() > 19 || r.find_first_not_of("0123456789") != std::string::npos) {
        res.status = 400;
        res.set_content(nlohmann::json{{"error", "round must be a non-negative integer, not '" + r.substr(0, 32) + "'"}}.dump() + "\n",
                        kJson);
        return;
      }
      round = std::stoull(r);
    }
    auto cp = c->view().Checkpoint(req.matches[1], round);
    if (!cp) {
      res.status = 404;
      const std::string what = round > 0 ? " of round " + std::to_string(round) : "";
      res.set_content(nlohmann::json{{"error", "no checkpoint" + what + " for job " + std::string(req.matches[1])}}.dump() + "\n",
                      kJson);
      return;
    }
    res.set_content(nlohmann::json{{"round", cp->round}, {"attempt", cp->attempt}, {"blob", HexEncode(cp->blob)}}.dump() + "\n",
                    kJson);
  });
  // The exact spec a job was submitted with: verifiers check it against the
  // jobSubmitted entry's specHash (docs/verification.md).
  http->Get(R"(/jobs/([A-Za-z0-9._-]{1,128})/spec)", [c](const httplib::Request& req, httplib::Response& res) {
    auto spec = c->SpecText(req.matches[1]);
    if (!spec.ok()) {
      res.status = spec.status().code() == StatusCode::kNotFound ? 404 : 503;
      res.set_content(nlohmann::json{{"error", spec.status().ToString()}}.dump() + "\n", kJson);
      return;
    }
    res.set_content(nlohmann::json{{"job", std::string(req.matches[1])}, {"spec", *spec}}.dump() + "\n", kJson);
  });
  http->Get("/models", [c](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : c->view().Models()) out.push_back(ModelJson(m, c->balances().FinetuneFee(m.blob)));
    res.set_content(out.dump(1) + "\n", kJson);
  });
  http->Get(R"(/models/([A-Za-z0-9._-]{1,128}))", [c](const httplib::Request& req, httplib::Response& res) {
    auto m = c->view().Model(req.matches[1]);
    if (!m) {
      res.status = 404;
      res.set_content(nlohmann::json{{"error", "no model named " + std::string(req.matches[1])}}.dump() + "\n", kJson);
      return;
    }
    res.set_content(ModelJson(*m, c->balances().FinetuneFee(m->blob)).dump() + "\n", kJson);
  });
  http->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  http->Get("/readyz", [c](const httplib::Request&, httplib::Response& res) {
    Status ready = c->ready();
    if (ready.ok()) {
      res.set_content("ready\n", "text/plain");
      return;
    }
    res.status = 503;
    res.set_content("not ready: " + std::string(ready.message()) + "\n", "text/plain");
  });
  const std::string key_hex = HexEncode(c->curve_public_key());
  http->Get("/coordinator-key", [key_hex](const httplib::Request&, httplib::Response& res) {
    res.set_content(key_hex + "\n", "text/plain");
  });
  http->Get("/metrics", [c](const httplib::Request&, httplib::Response& res) {
    res.set_content(c->metrics().Render(), MetricsRegistry::kContentType);
  });
}

}  // namespace cairn::coordinator
