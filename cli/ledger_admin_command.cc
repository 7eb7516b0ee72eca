// cairn ledger init | vkey | serve | load
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_commands.h"
#include "ledger/data_dir.h"
#include "ledger/read_server.h"
#include "ledger/test_entries.h"
#include "runtime/base/clock.h"

namespace cairn::cli {
namespace {

using ledger::Log;

struct AdminOptions {
  std::string data_dir;
  std::string origin;
  std::string listen = "127.0.0.1:7480";
  uint64_t entries = 0;
  int threads = 2;
  int window = 4096;
  int payload = 0;
  bool json = false;
};

Status Init(const AdminOptions& o) {
  RETURN_IF_ERROR(ledger::InitDataDir(o.data_dir, o.origin));
  ASSIGN_OR_RETURN(auto log, ledger::OpenDataDir(o.data_dir));
  std::printf("created ledger '%s' in %s\nverifier key: %s\n", log->origin().c_str(), o.data_dir.c_str(),
              log->verifier().ToString().c_str());
  return OkStatus();
}

Status Vkey(const AdminOptions& o) {
  ASSIGN_OR_RETURN(auto log, ledger::OpenDataDir(o.data_dir));
  std::printf("%s\n", log->verifier().ToString().c_str());
  return OkStatus();
}

std::atomic<bool> g_serve_stop{false};
extern "C" void StopServing(int) { g_serve_stop = true; }

Status Serve(const AdminOptions& o) {
  ASSIGN_OR_RETURN(auto log, ledger::OpenDataDir(o.data_dir));
  ASSIGN_OR_RETURN(auto server, ledger::ReadApiServer::Start(log.get(), o.listen));
  std::signal(SIGINT, StopServing);
  std::signal(SIGTERM, StopServing);
  std::printf("serving ledger '%s' (%llu entries) on http://%s\nverifier key: %s\n", log->origin().c_str(),
              static_cast<unsigned long long>(log->size()), o.listen.c_str(), log->verifier().ToString().c_str());
  std::fflush(stdout);
  while (!g_serve_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));  // until Ctrl-C / SIGTERM
  return OkStatus();
}

// Appends N pre-signed synthetic entries from several threads, each keeping
// up to `window` appends in flight, and reports throughput and the latency
// from submission to durable, checkpointed inclusion.
Status Load(const AdminOptions& o) {
  if (o.entries == 0) return InvalidArgumentError("--entries must be at least 1");
  ASSIGN_OR_RETURN(auto log, ledger::OpenDataDir(o.data_dir));
  ASSIGN_OR_RETURN(Ed25519PrivateKey actor, Ed25519PrivateKey::Generate());
  std::fprintf(stderr, "signing %llu entries...\n", static_cast<unsigned long long>(o.entries));
  uint64_t base = log->size();
  ASSIGN_OR_RETURN(std::vector<std::string> entries,
                   ledger::SignTestEntries(actor, base, o.entries, static_cast<size_t>(o.payload), o.threads));

  std::vector<int64_t> latency_ns(o.entries);
  std::atomic<uint64_t> next{0}, done{0};
  std::atomic<bool> failed{false};
  std::mutex err_mu;
  Status err;
  auto batches_before = log->stats().batches;
  int64_t start = Clock::System()->MonotonicNanos();
  std::vector<std::thread> threads;
  for (int t = 0; t < std::max(1, o.threads); ++t) {
    threads.emplace_back([&] {
      std::atomic<int> in_flight{0};
      for (uint64_t i; !failed && (i = next.fetch_add(1)) < o.entries;) {
        while (in_flight.load() >= o.window) std::this_thread::yield();
        in_flight.fetch_add(1);
        int64_t submitted = Clock::System()->MonotonicNanos();
        Status s = log->AppendAsync({entries[i]}, [&, i, submitted](StatusOr<uint64_t> r) {
          latency_ns[i] = Clock::System()->MonotonicNanos() - submitted;
          if (!r.ok()) {
            std::lock_guard<std::mutex> lock(err_mu);
            err = r.status();
            failed = true;
          }
          done.fetch_add(1);
          in_flight.fetch_sub(1);
        });
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(err_mu);
          err = s;
          failed = true;
          in_flight.fetch_sub(1);
          done.fetch_add(1);
        }
      }
      while (in_flight.load() > 0) std::this_thread::yield();
    });
  }
  for (auto& t : threads) t.join();
  double seconds = static_cast<double>(Clock::System()->MonotonicNanos() - start) / 1e9;
  RETURN_IF_ERROR(err);
  std::sort(latency_ns.begin(), latency_ns.end());
  auto pct = [&](double p) { return static_cast<double>(latency_ns[static_cast<size_t>(p * (o.entries - 1))]) / 1e6; };
  uint64_t batches = log->stats().batches - batches_before;
  double rate = static_cast<double>(o.entries) / seconds;
  if (o.json) {
    nlohmann::json j = {{"entries", o.entries}, {"seconds", seconds},      {"entries_per_second", rate},
                        {"batches", batches},   {"p50_ms", pct(0.5)},      {"p99_ms", pct(0.99)},
                        {"max_ms", pct(1.0)},   {"log_size", log->size()}, {"threads", o.threads}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("appended %llu entries in %.2f s: %.0f entries/s in %llu batches (%.0f per batch)\n",
                static_cast<unsigned long long>(o.entries), seconds, rate, static_cast<unsigned long long>(batches),
                static_cast<double>(o.entries) / std::max<uint64_t>(1, batches));
    std::printf("append -> signed checkpoint latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.5), pct(0.99),
                pct(1.0));
    std::printf("log size %llu\n", static_cast<unsigned long long>(log->size()));
  }
  return OkStatus();
}

}  // namespace

void RegisterLedgerAdminCommands(CLI::App* ledger, int* exit_code) {
  auto o = std::make_shared<AdminOptions>();
  auto add_dir = [&](CLI::App* c) {
    c->add_option("--data-dir", o->data_dir, "Ledger data directory")->required();
  };
  CLI::App* init = ledger->add_subcommand("init", "Create a ledger and its signing key in a data directory");
  add_dir(init);
  init->add_option("--origin", o->origin, "Checkpoint origin / log name (default cairn.local/<key id>)");
  init->callback([o, exit_code] { *exit_code = ReportStatus(Init(*o)); });

  CLI::App* vkey = ledger->add_subcommand("vkey", "Print the log's verifier key (name+keyid+base64 key)");
  add_dir(vkey);
  vkey->callback([o, exit_code] { *exit_code = ReportStatus(Vkey(*o)); });

  CLI::App* serve = ledger->add_subcommand("serve", "Serve the read API (checkpoint, tlog-tiles, proofs) over HTTP");
  add_dir(serve);
  serve->add_option("--listen", o->listen, "HOST:PORT to listen on")->capture_default_str();
  serve->callback([o, exit_code] { *exit_code = ReportStatus(Serve(*o)); });

  CLI::App* load = ledger->add_subcommand("load", "Append N signed synthetic entries (benchmarks and audits)");
  add_dir(load);
  load->add_option("--entries", o->entries, "How many entries")->required();
  load->add_option("--threads", o->threads, "Appending threads")->capture_default_str()->check(CLI::Range(1, 256));
  load->add_option("--window", o->window, "Appends in flight per thread")->capture_default_str()->check(CLI::Range(1, 1 << 20));
  load->add_option("--payload", o->payload, "Payload bytes per entry")->capture_default_str()->check(CLI::Range(0, 16384));
  load->add_flag("--json", o->json, "Print the result as JSON");
  load->callback([o, exit_code] { *exit_code = ReportStatus(Load(*o)); });
}

}  // namespace cairn::cli

namespace cairn::cli {

void RegisterLedgerCommand(CLI::App& app, int* exit_code) {
  CLI::App* ledger = app.add_subcommand("ledger", "The provenance ledger: create, serve, query and audit it");
  ledger->require_subcommand(1);
  RegisterLedgerAdminCommands(ledger, exit_code);
  RegisterLedgerQueryCommands(ledger, exit_code);
}

}  // namespace cairn::cli
