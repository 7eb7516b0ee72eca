// cairn worker: offer this machine's CPU or GPU to a coordinator. Parses
// flags into worker::WorkerOptions and runs the worker library
// (worker/worker.h) until Ctrl-C, which hands its work back.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "runtime/crypto/key_file.h"
#include "worker/worker.h"

namespace cairn::cli {
namespace {

struct WorkerCmd {
  CoordinatorAddress coordinator;
  std::string name;
  std::string region = "local";
  double price_per_hour = 1.0;
  uint32_t max_tasks = 1;
  std::string devices = "auto";
  double measure_seconds = 1.0;
  int threads = 0;
  std::string state_dir;
  std::string cache_dir;
  double http_retry_seconds = 60;
  bool verify_only = false;
};

std::atomic<bool> g_stop{false};
extern "C" void OnWorkerSignal(int) { g_stop = true; }

// "<name>:<memory GiB>:<bf16 TFLOP/s>" (CAIRN_TEST_CLAIM_GPU).
StatusOr<wire::Device> ParseClaimedGpu(const std::string& s) {
  const size_t a = s.rfind(':');
  const size_t b = a == std::string::npos || a == 0 ? std::string::npos : s.rfind(':', a - 1);
  if (b == std::string::npos || b == 0) {
    return InvalidArgumentError("CAIRN_TEST_CLAIM_GPU must be <name>:<memory GiB>:<bf16 TFLOP/s>, got '" + s + "'");
  }
  char* end = nullptr;
  const double gib = std::strtod(s.c_str() + b + 1, &end);
  const double tflops = std::strtod(s.c_str() + a + 1, nullptr);
  if (end != s.c_str() + a || !(gib > 0 && gib < 1e5) || !(tflops >= 0 && tflops < 1e5)) {
    return InvalidArgumentError("CAIRN_TEST_CLAIM_GPU: memory and TFLOP/s must be positive numbers, got '" + s + "'");
  }
  return wire::Device{wire::DeviceKind::kCuda, s.substr(0, b), static_cast<uint64_t>(gib * (1ull << 30)), 1, "9.0", tflops};
}

Status Run(const WorkerCmd& o) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey identity, LoadOrCreateIdentity());
  ASSIGN_OR_RETURN(auto resolved, ResolveCoordinator(o.coordinator));
  worker::WorkerOptions wo;
  const std::string& endpoint = resolved.first;  // tcp://HOST:PORT
  const size_t colon = endpoint.rfind(':');
  wo.coordinator_host = endpoint.substr(6, colon - 6);
  wo.bus_port = std::atoi(endpoint.c_str() + colon + 1);
  wo.http_port = CoordinatorHttp(o.coordinator).second;
  wo.coordinator_key = resolved.second;
  char host[256] = "worker";
  gethostname(host, sizeof(host) - 1);
  wo.name = o.name.empty() ? std::string(host).substr(0, 100) : o.name;
  wo.region = o.region;
  wo.price_per_hour_micros = static_cast<uint64_t>(o.price_per_hour * 1e6);
  wo.max_tasks = o.max_tasks;
  wo.devices = o.devices;
  wo.measure_seconds = o.measure_seconds;
  wo.threads = o.threads;
  wo.state_dir = o.state_dir.empty() ? CairnHome() : o.state_dir;
  wo.cache_dir = o.cache_dir.empty() ? CairnHome() + "/cache" : o.cache_dir;
  wo.http_retry_budget_ms = static_cast<int64_t>(o.http_retry_seconds * 1000);
  wo.verify_only = o.verify_only;
  // Misbehaviour exists for the verification tests only (docs/verification.md):
  // the harness sets CAIRN_TEST_MISBEHAVE; nothing else does.
  if (const char* mode = std::getenv("CAIRN_TEST_MISBEHAVE"); mode != nullptr && *mode != '\0') {
    ASSIGN_OR_RETURN(wo.misbehave, train::ParseMisbehave(mode));
    std::fprintf(stderr, "WARNING: CAIRN_TEST_MISBEHAVE=%s: this worker cheats on purpose (a test of verification)\n", mode);
  }
  // CAIRN_TEST_CLAIM_GPU="<name>:<memory GiB>:<bf16 TFLOP/s>" makes this
  // worker advertise that GPU (placement tests on machines without one).
  if (const char* claim = std::getenv("CAIRN_TEST_CLAIM_GPU"); claim != nullptr && *claim != '\0') {
    ASSIGN_OR_RETURN(wo.claimed_gpu, ParseClaimedGpu(claim));
    std::fprintf(stderr, "WARNING: CAIRN_TEST_CLAIM_GPU=%s: this worker advertises a GPU it may not have (a test)\n", claim);
  }
  if (o.measure_seconds > 0) std::fprintf(stderr, "measuring this machine for %.1f s...\n", o.measure_seconds);
  ASSIGN_OR_RETURN(auto worker, worker::Worker::Create(std::move(identity), wo));
  std::printf("worker %s ('%s') -> %s\n  devices: %zu x %s; %u task slot(s); %.3f TFLOP/s measured; %.2f credits/hour\n"
              "  outbox %s/outbox.db (%zu record(s) to deliver)%s\n",
              worker->id().c_str(), wo.name.c_str(), endpoint.c_str(), worker->devices().size(),
              worker->cuda() ? "cuda" : "cpu", wo.max_tasks, worker->measured_tflops(), o.price_per_hour,
              wo.state_dir.c_str(), worker->outbox().pending(), o.verify_only ? "\n  verification tasks only" : "");
  for (const auto& d : worker->devices()) {
    if (d.kind != wire::DeviceKind::kCuda) continue;
    std::printf("  GPU %s: %.1f GiB, compute capability %s, %.1f bf16 TFLOP/s\n", d.name.c_str(),
                static_cast<double>(d.memory_bytes) / (1ull << 30), d.compute_capability.c_str(), d.bf16_tflops);
  }
  std::fflush(stdout);
  std::signal(SIGINT, OnWorkerSignal);
  std::signal(SIGTERM, OnWorkerSignal);
  return worker->Run(g_stop);
}

}  // namespace

void RegisterWorkerCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<WorkerCmd>();
  CLI::App* w = app.add_subcommand("worker", "Offer this machine's CPU/GPU to a coordinator and earn credits");
  AddCoordinatorOptions(w, &o->coordinator);
  w->add_option("--name", o->name, "Name shown in `cairn workers` (default: host name)");
  w->add_option("--region", o->region, "Region, for placement filters")->capture_default_str();
  w->add_option("--price-per-hour", o->price_per_hour, "Price per task slot, credits/hour")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  w->add_option("--max-tasks", o->max_tasks, "Task slots offered (never exceeded)")->capture_default_str()->check(CLI::Range(1, 64));
  w->add_option("--devices", o->devices, "auto | cpu | cuda")->capture_default_str()->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  w->add_option("--threads", o->threads, "Threads per task for training (0: all cores)")->capture_default_str()->check(CLI::Range(0, 1024));
  w->add_option("--state-dir", o->state_dir, "Where the worker keeps its outbox (default: $CAIRN_HOME)");
  w->add_option("--cache-dir", o->cache_dir, "Dataset chunk cache (default: $CAIRN_HOME/cache)");
  w->add_option("--http-retry-seconds", o->http_retry_seconds,
                "How long reads from the coordinator's HTTP port are retried before a task fails (Unavailable)")
      ->capture_default_str()->check(CLI::Range(0.0, 3600.0));
  w->add_flag("--verify-only", o->verify_only,
              "Take verification tasks only: replay other workers' challenged rounds (docs/verification.md)");
  w->add_option("--measure-seconds", o->measure_seconds, "Self-measurement time (0: skip)")->capture_default_str()->check(CLI::Range(0.0, 60.0));
  w->callback([o, exit_code] { *exit_code = ReportStatus(Run(*o)); });
}

}  // namespace cairn::cli
