// cairn coordinator: parses flags into coordinator::CoordinatorServerOptions
// and runs the coordinator library (coordinator/coordinator_server.h): the
// bus for workers and clients, the scheduler, the ledger, and its HTTP port.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "cli/commands.h"
#include "coordinator/coordinator_server.h"
#include "runtime/base/allocator.h"
#include "runtime/base/encoding.h"

namespace cairn::cli {
namespace {

struct CoordinatorCmd {
  std::string data_dir;
  std::string bus = "tcp://0.0.0.0:7450";
  std::string http = "0.0.0.0:7480";
  std::string allow_file;
  int heartbeat_ms = 1000;
  int liveness = 3;
  double adopt_grace_seconds = 15;
  int rendezvous_linger_seconds = 60;
  double audit_wait_seconds = 10;
  uint32_t answer_seconds = 120;
  double verify_wait_seconds = 600;
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

Status Run(const CoordinatorCmd& o) {
  TuneAllocatorForServers();
  coordinator::CoordinatorServerOptions opts;
  opts.coordinator.data_dir = o.data_dir;
  opts.coordinator.bus = o.bus;
  opts.coordinator.cluster.heartbeat_interval_ms = o.heartbeat_ms;
  opts.coordinator.cluster.liveness = o.liveness;
  opts.coordinator.cluster.adopt_grace_ms = static_cast<int64_t>(o.adopt_grace_seconds * 1000);
  opts.coordinator.audit_wait_ms = static_cast<int64_t>(o.audit_wait_seconds * 1000);
  opts.coordinator.answer_seconds = o.answer_seconds;
  opts.coordinator.verify_wait_ms = static_cast<int64_t>(o.verify_wait_seconds * 1000);
  opts.http = o.http;
  // The rendezvous store in its own process, which outlives a crash of this
  // one: a restarted coordinator finds training groups still meeting there.
  opts.coordinator.rendezvous.mode = coordinator::RendezvousOptions::kDetached;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  opts.coordinator.rendezvous.binary = n > 0 ? std::string(self, static_cast<size_t>(n)) : "cairn";
  opts.coordinator.rendezvous.linger_seconds = o.rendezvous_linger_seconds;
  if (!o.allow_file.empty()) {
    ASSIGN_OR_RETURN(opts.coordinator.allow, ReadAllowList(o.allow_file));
    opts.coordinator.enrollment = wire::Enrollment::kAllowList;
  }
  ASSIGN_OR_RETURN(auto server, coordinator::CoordinatorServer::Start(opts));
  coordinator::Coordinator& c = server->coordinator();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("coordinator ready\n  bus   %s\n  http  %s\n  key   %s\n  ledger %s (%llu entries; verifier key %s)\n",
              c.endpoint().c_str(), o.http.empty() ? "off" : o.http.c_str(), HexEncode(c.curve_public_key()).c_str(),
              c.ledger().origin().c_str(), static_cast<unsigned long long>(c.ledger().size()),
              c.ledger().verifier().ToString().c_str());
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // until Ctrl-C / SIGTERM
  return OkStatus();
}

}  // namespace

struct RendezvousHostCmd {
  std::string data_dir;
  int port = 0;
  int linger_seconds = 60;
};

void RegisterRendezvousHostCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RendezvousHostCmd>();
  CLI::App* r = app.add_subcommand("rendezvous-host", "The rendezvous store a coordinator starts for itself (internal)");
  r->group("");  // not listed in --help: the coordinator runs it
  r->add_option("--data-dir", o->data_dir, "The coordinator's data directory")->required();
  r->add_option("--port", o->port, "Port (0: any free port)")->capture_default_str();
  r->add_option("--linger-seconds", o->linger_seconds, "Exit once the coordinator has been gone this long")
      ->capture_default_str();
  r->callback([o, exit_code] {
    *exit_code = ReportStatus(coordinator::RunRendezvousHost(o->data_dir, o->port, o->linger_seconds));
  });
}

void RegisterCoordinatorCommand(CLI::App& app, int* exit_code) {
  RegisterRendezvousHostCommand(app, exit_code);
  auto o = std::make_shared<CoordinatorCmd>();
  CLI::App* c = app.add_subcommand("coordinator", "Run the coordinator: scheduler, ledger and bus for workers and clients");
  c->add_option("--data-dir", o->data_dir, "State and ledger directory (created if needed)")->required();
  c->add_option("--bus", o->bus, "ZeroMQ endpoint for workers and clients")->capture_default_str();
  c->add_option("--http", o->http, "HOST:PORT for the ledger API, /metrics and /healthz (empty: off)")->capture_default_str();
  c->add_option("--allow", o->allow_file, "Allow-list file of Ed25519 public keys (base64); default: open enrollment");
  c->add_option("--heartbeat-ms", o->heartbeat_ms, "Heartbeat interval")->capture_default_str()->check(CLI::Range(50, 60000));
  c->add_option("--liveness", o->liveness, "Missed heartbeats before a worker is dead")->capture_default_str()->check(CLI::Range(1, 100));
  c->add_option("--adopt-grace-seconds", o->adopt_grace_seconds,
                 "After a restart: how long running jobs wait for their workers to come back")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  c->add_option("--rendezvous-linger-seconds", o->rendezvous_linger_seconds,
                 "After a crash: how long the rendezvous store waits for a coordinator to come back")
      ->capture_default_str()->check(CLI::Range(1, 86400));
  c->add_option("--audit-wait-seconds", o->audit_wait_seconds,
                 "Verification: audit a round once all its receipts are in, or this long after the first")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  c->add_option("--answer-seconds", o->answer_seconds,
                 "Verification: how long a challenged worker has to disclose the state it committed to")
      ->capture_default_str()->check(CLI::Range(1, 86400));
  c->add_option("--verify-wait-seconds", o->verify_wait_seconds,
                 "Verification: a challenged round no verifier took by then is 'not comparable' (its pay released)")
      ->capture_default_str()->check(CLI::Range(1.0, 86400.0));
  c->callback([o, exit_code] { *exit_code = ReportStatus(Run(*o)); });
}

}  // namespace cairn::cli
