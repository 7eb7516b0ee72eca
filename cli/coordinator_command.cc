// cairn coordinator: the control plane — the bus for workers and clients,
// the scheduler, the ledger — plus its HTTP port (ledger read API, the data
// plane: blobs and datasets, /healthz, Prometheus /metrics, /coordinator-key).
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/http_api.h"
#include "ledger/http_api.h"
#include "runtime/base/encoding.h"
#include "coordinator/accounts_api.h"
#include "coordinator/coordinator.h"

namespace cairn::cli {
namespace {

struct CoordinatorCmd {
  std::string data_dir;
  std::string bus = "tcp://0.0.0.0:7450";
  std::string http = "0.0.0.0:7480";
  std::string allow_file;
  int heartbeat_ms = 1000;
  int liveness = 3;
};

std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop = true; }

StatusOr<std::vector<std::string>> ReadAllowList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read allow-list " + path);
  std::vector<std::string> keys;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::string token = line.substr(0, line.find_first_of(" \t"));
    auto raw = Base64Decode(token);
    if (!raw.ok() || raw->size() != 32) {
      return InvalidArgumentError(path + ":" + std::to_string(n) + ": expected a base64 Ed25519 public key (`cairn keys show`)");
    }
    keys.push_back(*raw);
  }
  return keys;
}

std::string Metrics(coordinator::Coordinator& c) {
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
  out += c.TrainingMetrics();
  out += c.gateway().Metrics();
  out += c.placement_latency().Render("cairn_placement_latency_seconds",
                                      "Time of a scheduling pass that placed at least one job.");
  return out;
}

Status Run(const CoordinatorCmd& o) {
  coordinator::CoordinatorOptions opts;
  opts.data_dir = o.data_dir;
  opts.bus = o.bus;
  opts.cluster.heartbeat_interval_ms = o.heartbeat_ms;
  opts.cluster.liveness = o.liveness;
  if (!o.allow_file.empty()) {
    ASSIGN_OR_RETURN(opts.allow, ReadAllowList(o.allow_file));
    opts.enrollment = wire::Enrollment::kAllowList;
  }
  ASSIGN_OR_RETURN(auto coordinator, coordinator::Coordinator::Start(opts));
  std::string key_hex = HexEncode(coordinator->curve_public_key());

  // Datasets, checkpoints and models: DIR/blobs and DIR/datasets.json.
  ASSIGN_OR_RETURN(auto datasets, data::DatasetRegistry::Open(o.data_dir, &coordinator->ledger()));
  httplib::Server http;
  ledger::InstallReadApi(&http, &coordinator->ledger());
  data::InstallDataApi(&http, datasets.get());
  coordinator->gateway().Install(&http);  // /v1 (OpenAI) and /v2 (KServe) inference
  coordinator::InstallAccountsApi(&http, coordinator.get());  // credits and API keys
  // Where a requeued or restarted job resumes from (workers ask at start),
  // and the registered models (`cairn models`, serving).
  http.Get(R"(/jobs/([A-Za-z0-9._-]{1,128})/checkpoint)", [&](const httplib::Request& req, httplib::Response& res) {
    auto c = coordinator->artifacts().Checkpoint(req.matches[1]);
    if (!c) {
      res.status = 404;
      res.set_content("{\"error\": \"no checkpoint for this job\"}\n", "application/json");
      return;
    }
    res.set_content(nlohmann::json{{"round", c->round}, {"blob", HexEncode(c->blob)}}.dump() + "\n", "application/json");
  });
  auto model_json = [](const coordinator::ModelRef& m) {
    nlohmann::json ds = nlohmann::json::array();
    for (const auto& d : m.datasets) ds.push_back(HexEncode(d));
    return nlohmann::json{{"name", m.name}, {"blob", HexEncode(m.blob)}, {"job", m.job_id}, {"license", m.license},
                          {"parent", HexEncode(m.parent)}, {"datasets", ds}};
  };
  http.Get("/models", [&](const httplib::Request&, httplib::Response& res) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& m : coordinator->artifacts().Models()) out.push_back(model_json(m));
    res.set_content(out.dump(1) + "\n", "application/json");
  });
  http.Get(R"(/models/([A-Za-z0-9._-]{1,128}))", [&](const httplib::Request& req, httplib::Response& res) {
    auto m = coordinator->artifacts().Model(req.matches[1]);
    if (!m) {
      res.status = 404;
      res.set_content("{\"error\": \"no model named " + std::string(req.matches[1]) + "\"}\n", "application/json");
      return;
    }
    res.set_content(model_json(*m).dump() + "\n", "application/json");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  http.Get("/coordinator-key", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(key_hex + "\n", "text/plain");
  });
  http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(Metrics(*coordinator), "text/plain; version=0.0.4");
  });
  std::thread http_thread;
  if (!o.http.empty()) {
    size_t colon = o.http.rfind(':');
    if (colon == std::string::npos) return InvalidArgumentError("--http must be HOST:PORT");
    if (!http.bind_to_port(o.http.substr(0, colon).c_str(), std::atoi(o.http.c_str() + colon + 1))) {
      return UnavailableError("cannot listen for HTTP on " + o.http);
    }
    http_thread = std::thread([&] { http.listen_after_bind(); });
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("coordinator ready\n  bus   %s\n  http  %s\n  key   %s\n  ledger %s (verifier key %s)\n",
              coordinator->endpoint().c_str(), o.http.empty() ? "off" : o.http.c_str(), key_hex.c_str(),
              coordinator->ledger().origin().c_str(), coordinator->ledger().verifier().ToString().c_str());
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  http.stop();
  if (http_thread.joinable()) http_thread.join();
  return OkStatus();
}

}  // namespace

void RegisterCoordinatorCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CoordinatorCmd>();
  CLI::App* c = app.add_subcommand("coordinator", "Run the coordinator: scheduler, ledger and bus for workers and clients");
  c->add_option("--data-dir", o->data_dir, "State and ledger directory (created if needed)")->required();
  c->add_option("--bus", o->bus, "ZeroMQ endpoint for workers and clients")->capture_default_str();
  c->add_option("--http", o->http, "HOST:PORT for the ledger API, /metrics and /healthz (empty: off)")->capture_default_str();
  c->add_option("--allow", o->allow_file, "Allow-list file of Ed25519 public keys (base64); default: open enrollment");
  c->add_option("--heartbeat-ms", o->heartbeat_ms, "Heartbeat interval")->capture_default_str()->check(CLI::Range(50, 60000));
  c->add_option("--liveness", o->liveness, "Missed heartbeats before a worker is dead")->capture_default_str()->check(CLI::Range(1, 100));
  c->callback([o, exit_code] { *exit_code = ReportStatus(Run(*o)); });
}

}  // namespace cairn::cli
