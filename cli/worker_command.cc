// cairn worker: offer this machine's CPU or GPU to a coordinator. Detects
// devices, measures itself once, registers under the user's identity, and
// runs what it is assigned until Ctrl-C, which hands its work back.
#include <csignal>
#include <cstdio>
#include <thread>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "worker/serve_task.h"
#include "worker/train_task.h"
#include "runtime/crypto/key_file.h"
#include "kernels/device_info.h"
#include "runtime/base/log.h"
#include "worker/agent.h"
#include "worker/matmul_bench.h"
#include "jobspec/job_spec.h"

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
  std::string cache_dir;
};

std::atomic<bool> g_stop{false};
extern "C" void OnWorkerSignal(int) { g_stop = true; }

StatusOr<std::vector<wire::Device>> DetectDevices(const std::string& want) {
  std::vector<wire::Device> out;
  if (want == "auto" || want == "cuda") {
    ASSIGN_OR_RETURN(auto gpus, kernels::ListCudaDevices());
    for (const auto& g : gpus) {
      out.push_back(wire::Device{wire::DeviceKind::kCuda, g.name.substr(0, 120), g.memory_bytes,
                                 static_cast<uint32_t>(g.multiprocessors),
                                 std::to_string(g.major) + "." + std::to_string(g.minor)});
    }
    if (want == "cuda" && out.empty()) return FailedPreconditionError("--devices cuda, but no CUDA device is visible");
  }
  if (out.empty()) {
    uint64_t mem = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
    out.push_back(wire::Device{wire::DeviceKind::kCpu, "cpu", mem, std::max(1u, std::thread::hardware_concurrency()), ""});
  }
  return out;
}

// What this worker does with a task.
StatusOr<std::string> RunTask(const wire::TaskAssign& task, const std::atomic<bool>& cancel, const worker::TaskIo& io,
                              bool cuda, const worker::TrainEnvironment& env) {
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(task.spec, task.job_id));
  if (spec.kind == jobspec::JobKind::kTrain) return worker::RunTrainTask(task, cancel, io, env);
  if (spec.kind == jobspec::JobKind::kServe) return worker::RunServeTask(task, cancel, io, env);
  const auto& log = io.log;
  log("rank " + std::to_string(task.rank) + "/" + std::to_string(task.world_size) + ": matmul benchmark for " +
      std::to_string(spec.benchmark_seconds) + " s");
  ASSIGN_OR_RETURN(worker::MatmulResult r,
                   worker::RunMatmul(spec.benchmark_seconds, 256, cuda, &cancel, [&](const worker::MatmulResult& p) {
                     char buf[128];
                     std::snprintf(buf, sizeof(buf), "%.1f s: %.2f GFLOP/s", p.seconds, p.tflops * 1000);
                     log(buf);
                   }));
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%llu multiplies in %.1f s: %.2f GFLOP/s", static_cast<unsigned long long>(r.multiplies),
                r.seconds, r.tflops * 1000);
  return std::string(buf);
}

Status Run(const WorkerCmd& o) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey identity, LoadOrCreateIdentity());
  ASSIGN_OR_RETURN(auto resolved, ResolveCoordinator(o.coordinator));
  ASSIGN_OR_RETURN(auto devices, DetectDevices(o.devices));
  bool cuda = devices[0].kind == wire::DeviceKind::kCuda;
  double tflops = 0;
  if (o.measure_seconds > 0) {
    auto m = worker::RunMatmul(o.measure_seconds, 256, cuda, nullptr);
    if (!m.ok()) return m.status().WithContext("self-measurement");
    tflops = m->tflops;
  }
  char host[256] = "worker";
  gethostname(host, sizeof(host) - 1);
  worker::AgentOptions ao;
  ao.coordinator = resolved.first;
  ao.coordinator_key = resolved.second;
  ao.name = o.name.empty() ? std::string(host).substr(0, 100) : o.name;
  ao.region = o.region;
  ao.price_per_hour_micros = static_cast<uint64_t>(o.price_per_hour * 1e6);
  ao.max_tasks = o.max_tasks;
  ao.devices = devices;
  ao.measured_tflops = tflops;
  std::printf("worker %s ('%s') -> %s\n  devices: %zu x %s; %u task slot(s); %.3f TFLOP/s measured; %.2f credits/hour\n",
              identity.public_key().KeyId().c_str(), ao.name.c_str(), ao.coordinator.c_str(), devices.size(),
              cuda ? "cuda" : "cpu", ao.max_tasks, tflops, o.price_per_hour);
  std::fflush(stdout);
  worker::TrainEnvironment env;
  env.identity = &identity;
  env.coordinator_host = CoordinatorHttp(o.coordinator).first;
  env.http_port = o.coordinator.http_port;
  env.cache_dir = o.cache_dir.empty() ? CairnHome() + "/cache" : o.cache_dir;
  env.threads = o.threads;
  worker::WorkerAgent agent(identity, ao, [cuda, &env](const wire::TaskAssign& t, const std::atomic<bool>& c,
                                                       const worker::TaskIo& io) { return RunTask(t, c, io, cuda, env); });
  std::signal(SIGINT, OnWorkerSignal);
  std::signal(SIGTERM, OnWorkerSignal);
  return agent.Run(g_stop);
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
  w->add_option("--cache-dir", o->cache_dir, "Dataset chunk cache (default: $CAIRN_HOME/cache)");
  w->add_option("--measure-seconds", o->measure_seconds, "Self-measurement time (0: skip)")->capture_default_str()->check(CLI::Range(0.0, 60.0));
  w->callback([o, exit_code] { *exit_code = ReportStatus(Run(*o)); });
}

}  // namespace cairn::cli
