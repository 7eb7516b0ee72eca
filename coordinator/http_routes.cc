#include "coordinator/http_routes.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "coordinator/coordinator.h"
#include "runtime/base/encoding.h"

namespace cairn::coordinator {
namespace {

constexpr char kJson[] = "application/json";

nlohmann::json ModelJson(const ModelRef& m) {
  nlohmann::json ds = nlohmann::json::array();
  for (const auto& d : m.datasets) ds.push_back(HexEncode(d));
  return nlohmann::json{{"name", m.name}, {"blob", HexEncode(m.blob)},     {"job", m.job_id},
                        {"license", m.license}, {"parent", HexEncode(m.parent)}, {"datasets", ds},
                        {"author", HexEncode(m.author)}, {"ledger_index", m.ledger_index}};
}

}  // namespace

std::string CoordinatorMetrics(Coordinator& c) {
  auto s = c.stats();
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help, const std::string& value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + value + "\n";
  };
  metric("cairn_heartbeats_received_total", "counter", "Heartbeats received from workers.", " " + std::to_string(s.heartbeats));
  metric("cairn_placements_total", "counter", "Jobs placed on workers (each attempt).", " " + std::to_string(s.placements));
  metric("cairn_job_queue_depth", "gauge", "Jobs waiting to be placed.", " " + std::to_string(s.queue_depth));
  metric("cairn_workers", "gauge", "Workers known to the coordinator, by state.",
         "{state=\"alive\"} " + std::to_string(s.workers_alive) + "\ncairn_workers{state=\"dead\"} " +
             std::to_string(s.workers_dead));
  metric("cairn_ledger_entries", "gauge", "Entries in the provenance ledger.", " " + std::to_string(c.ledger().size()));
  metric("cairn_ledger_ready", "gauge", "1 while the ledger accepts entries, 0 after a store failure.",
         c.ready().ok() ? " 1" : " 0");
  metric("cairn_worker_entries_acked_total", "counter", "Worker-signed entries acknowledged (resends included).",
         " " + std::to_string(s.entries_acked));
  metric("cairn_worker_entries_duplicate_total", "counter", "Resent worker entries already in the ledger.",
         " " + std::to_string(s.entries_duplicate));
  metric("cairn_worker_entries_refused_total", "counter", "Worker-signed entries refused.",
         " " + std::to_string(s.entries_refused));
  std::string round = "# HELP cairn_train_round Latest round a worker reported for a training job.\n# TYPE cairn_train_round gauge\n";
  std::string loss = "# HELP cairn_train_loss Mean training loss in the latest receipt.\n# TYPE cairn_train_loss gauge\n";
  std::string samples = "# HELP cairn_train_samples_total Samples trained on, from step receipts.\n# TYPE cairn_train_samples_total counter\n";
  uint64_t receipts = 0;
  for (const auto& [job, p] : c.view().Progress()) {
    const std::string label = "{job=\"" + job + "\"} ";
    round += "cairn_train_round" + label + std::to_string(p.round) + "\n";
    loss += "cairn_train_loss" + label + std::to_string(p.loss) + "\n";
    samples += "cairn_train_samples_total" + label + std::to_string(p.samples) + "\n";
    receipts += p.receipts;
  }
  out += round + loss + samples + "# HELP cairn_step_receipts_total Step receipts in the ledger.\n" +
         "# TYPE cairn_step_receipts_total counter\ncairn_step_receipts_total " + std::to_string(receipts) + "\n";
  out += c.gateway().Metrics();
  out += c.placement_latency().Render("cairn_placement_latency_seconds",
                                      "Time of a scheduling pass that placed at least one job.");
  return out;
}

void InstallCoordinatorRoutes(httplib::Server* http, Coordinator* c) {
  http->Get(R"(/jobs/([A-Za-z0-9._-]{1,128})/checkpoint)", [c](const httplib::Request& req, httplib::Response& res) {
    auto cp = c->view().Checkpoint(req.matches[1]);
    if (!cp) {
      res.status = 404;
      res.set_content(nlohmann::json{{"error", "no checkpoint for job " + std::string(req.matches[1])}}.dump() + "\n", kJson);
      return;
    }
    res.set_content(nlohmann::json{{"round", cp->round}, {"attempt", cp->attempt}, {"blob", HexEncode(cp->blob)}}.dump() + "\n",
                    kJson);
  });
  http->Get("/models", [c](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : c->view().Models()) out.push_back(ModelJson(m));
    res.set_content(out.dump(1) + "\n", kJson);
  });
  http->Get(R"(/models/([A-Za-z0-9._-]{1,128}))", [c](const httplib::Request& req, httplib::Response& res) {
    auto m = c->view().Model(req.matches[1]);
    if (!m) {
      res.status = 404;
      res.set_content(nlohmann::json{{"error", "no model named " + std::string(req.matches[1])}}.dump() + "\n", kJson);
      return;
    }
    res.set_content(ModelJson(*m).dump() + "\n", kJson);
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
    res.set_content(CoordinatorMetrics(*c), "text/plain; version=0.0.4");
  });
}

}  // namespace cairn::coordinator
