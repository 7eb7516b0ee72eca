// cairn jobs | status | logs | cancel | workers: the ML engineer's
// verbs against a coordinator. Tables for people, --json for scripts.
#include <cstdio>
#include <thread>

#include <nlohmann/json.hpp>

#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "data/data_client.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"
#include "cli/coordinator_client.h"
#include "runtime/base/clock.h"
#include "runtime/base/files.h"
#include "jobspec/job_spec.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

struct JobCmd {
  CoordinatorAddress coordinator;
  std::string file;
  std::string job;
  bool follow = false;
  bool json = false;
  bool verifications = false;  // `cairn jobs`: list the coordinator's verification tasks too
};

std::string Dump(const json& j) { return j.dump(2, ' ', false, json::error_handler_t::replace); }

json JobJson(const wire::JobInfo& j) {
  return {{"id", j.id},           {"name", j.name},       {"kind", j.kind},       {"state", j.state},
          {"attempt", j.attempt}, {"retries", j.retries}, {"workers", j.workers}, {"workers_wanted", j.workers_wanted},
          {"message", j.message}, {"submitter", j.submitter}, {"submitted_unix_millis", j.submitted_unix_millis},
          {"budget_micros", j.budget_micros}, {"spent_micros", j.spent_micros}, {"refunded_micros", j.refunded_micros}};
}

std::string Age(int64_t unix_ms) {
  int64_t s = (Clock::System()->NowUnixMillis() - unix_ms) / 1000;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h";
}


// Connects as the user's identity (created on first use).
StatusOr<Connection> Connect(const JobCmd& o) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());
  return ConnectToCoordinator(o.coordinator, me);
}

Status Jobs(const JobCmd& o) {
  ASSIGN_OR_RETURN(Connection c, Connect(o));
  ASSIGN_OR_RETURN(wire::JobsBody all, Expect<wire::JobsBody>(c.Call(wire::ListJobsBody{})));
  // Verification tasks (one per replayed round) are the coordinator's, not
  // the user's: counted, listed with --verifications.
  wire::JobsBody jobs;
  size_t verify_tasks = 0, verify_open = 0;
  for (auto& j : all.jobs) {
    if (j.kind == "verify" && !o.verifications) {
      ++verify_tasks;
      verify_open += j.state == "queued" || j.state == "running";
      continue;
    }
    jobs.jobs.push_back(std::move(j));
  }
  if (o.json) {
    json out = json::array();
    for (const auto& j : jobs.jobs) out.push_back(JobJson(j));
    std::printf("%s\n", Dump(out).c_str());
    return OkStatus();
  }
  std::printf("%-28s %-10s %-16s %-8s %-8s %-17s %-5s %s\n", "ID", "KIND", "STATE", "WORKERS", "ATTEMPT", "SPENT/BUDGET",
              "AGE", "MESSAGE");
  for (const auto& j : jobs.jobs) {
    std::string workers = std::to_string(j.workers.size()) + "/" + std::to_string(j.workers_wanted);
    char money[48];
    std::snprintf(money, sizeof(money), "%.4f/%.4f", static_cast<double>(j.spent_micros) / 1e6,
                  static_cast<double>(j.budget_micros) / 1e6);
    std::printf("%-28s %-10s %-16s %-8s %-8u %-17s %-5s %s\n", j.id.c_str(), j.kind.c_str(), j.state.c_str(),
                workers.c_str(), j.attempt, money, Age(j.submitted_unix_millis).c_str(), j.message.substr(0, 60).c_str());
  }
  if (jobs.jobs.empty()) std::printf("(no jobs)\n");
  if (verify_tasks > 0) {
    std::printf("(%zu verification tasks, %zu still to run: replays of challenged rounds; --verifications lists them)\n",
                verify_tasks, verify_open);
  }
  return OkStatus();
}

Status JobStatus(const JobCmd& o) {
  ASSIGN_OR_RETURN(Connection c, Connect(o));
  ASSIGN_OR_RETURN(wire::JobInfo j, Expect<wire::JobInfo>(c.Call(wire::JobStatusBody{o.job})));
  if (o.json) {
    std::printf("%s\n", Dump(JobJson(j)).c_str());
    return OkStatus();
  }
  std::printf("job       %s (%s, %s)\nstate     %s\nattempt   %u (retries used %u)\nworkers   %zu of %u",
              j.id.c_str(), j.name.c_str(), j.kind.c_str(), j.state.c_str(), j.attempt, j.retries, j.workers.size(),
              j.workers_wanted);
  for (const auto& w : j.workers) std::printf(" %s", w.substr(0, 12).c_str());
  std::printf("\nsubmitted %s ago by %s\n", Age(j.submitted_unix_millis).c_str(), j.submitter.c_str());
  std::printf("budget    %.6f credits, spent %.6f (compute, data, fees), refunded %.6f, in escrow %.6f\n",
              static_cast<double>(j.budget_micros) / 1e6, static_cast<double>(j.spent_micros) / 1e6,
              static_cast<double>(j.refunded_micros) / 1e6,
              static_cast<double>(j.budget_micros - std::min(j.budget_micros, j.spent_micros + j.refunded_micros)) / 1e6);
  if (!j.message.empty()) std::printf("message   %s\n", j.message.c_str());
  return OkStatus();
}

Status Logs(const JobCmd& o) {
  ASSIGN_OR_RETURN(Connection c, Connect(o));
  return StreamLogs(c, o.job, o.follow).status();
}

Status Cancel(const JobCmd& o) {
  ASSIGN_OR_RETURN(Connection c, Connect(o));
  ASSIGN_OR_RETURN(wire::CancelledBody b, Expect<wire::CancelledBody>(c.Call(wire::CancelBody{o.job})));
  std::printf("cancelled %s\n", b.job_id.c_str());
  return OkStatus();
}

Status Workers(const JobCmd& o) {
  ASSIGN_OR_RETURN(Connection c, Connect(o));
  ASSIGN_OR_RETURN(wire::WorkersBody ws, Expect<wire::WorkersBody>(c.Call(wire::ListWorkersBody{})));
  if (o.json) {
    json out = json::array();
    for (const auto& w : ws.workers) {
      json gpus = json::array();
      for (const auto& g : w.gpus) {
        gpus.push_back({{"name", g.name}, {"memory_bytes", g.memory_bytes}, {"compute_capability", g.compute_capability},
                        {"bf16_tflops", g.bf16_tflops}});
      }
      out.push_back({{"gpus", gpus}, {"id", w.id}, {"name", w.name}, {"region", w.region}, {"device", w.device}, {"alive", w.alive},
                     {"slots", w.slots}, {"used", w.used}, {"tflops", w.tflops},
                     {"price_per_hour_micros", w.price_per_hour_micros}, {"last_seen_millis_ago", w.last_seen_millis_ago},
                     {"reputation", w.reputation}, {"passes", w.passes}, {"fails", w.fails}, {"rounds", w.rounds},
                     {"profile", w.profile}, {"verify_only", w.verify_only}});
    }
    std::printf("%s\n", Dump(out).c_str());
    return OkStatus();
  }
  // REPUTATION: from the ledger (docs/verification.md): passes and fails of
  // replays of the worker's rounds, and the rounds it was paid for.
  std::printf("%-14s %-16s %-8s %-6s %-6s %-6s %-8s %-10s %-10s %-15s %s\n", "ID", "NAME", "REGION", "DEVICE", "STATE",
              "SLOTS", "TFLOP/S", "PRICE/H", "REPUTATION", "PASS/FAIL/RND", "LAST SEEN");
  for (const auto& w : ws.workers) {
    const std::string record = std::to_string(w.passes) + "/" + std::to_string(w.fails) + "/" + std::to_string(w.rounds);
    std::printf("%-14s %-16s %-8s %-6s %-6s %u/%-4u %-8.3f %-10.2f %-10.2f %-15s %.1fs ago%s\n", w.id.substr(0, 12).c_str(),
                w.name.substr(0, 16).c_str(), w.region.c_str(), w.device.c_str(), w.alive ? "alive" : "dead", w.used,
                w.slots, w.tflops, static_cast<double>(w.price_per_hour_micros) / 1e6, w.reputation, record.c_str(),
                static_cast<double>(w.last_seen_millis_ago) / 1000, w.verify_only ? " (verifier)" : "");
    for (const auto& g : w.gpus) {
      std::printf("  GPU %s: %.0f GiB, cc %s, %.1f bf16 TFLOP/s\n", g.name.c_str(),
                  static_cast<double>(g.memory_bytes) / (1ull << 30), g.compute_capability.c_str(), g.bf16_tflops);
    }
  }
  if (ws.workers.empty()) std::printf("(no workers)\n");
  return OkStatus();
}

}  // namespace

void RegisterJobCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<JobCmd>();
  CLI::App* jobs = app.add_subcommand("jobs", "List jobs");
  jobs->add_flag("--json", o->json, "Print JSON");
  jobs->add_flag("--verifications", o->verifications, "Also list the coordinator's verification tasks (docs/verification.md)");
  AddCoordinatorOptions(jobs, &o->coordinator);
  jobs->callback([o, exit_code] { *exit_code = ReportStatus(Jobs(*o)); });

  CLI::App* status = app.add_subcommand("status", "Show one job");
  status->add_option("job", o->job, "Job id")->required();
  status->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(status, &o->coordinator);
  status->callback([o, exit_code] { *exit_code = ReportStatus(JobStatus(*o)); });

  CLI::App* logs = app.add_subcommand("logs", "Print a job's logs");
  logs->add_option("job", o->job, "Job id")->required();
  logs->add_flag("--follow,-f", o->follow, "Keep streaming until the job ends");
  AddCoordinatorOptions(logs, &o->coordinator);
  logs->callback([o, exit_code] { *exit_code = ReportStatus(Logs(*o)); });

  CLI::App* cancel = app.add_subcommand("cancel", "Cancel a job");
  cancel->add_option("job", o->job, "Job id")->required();
  AddCoordinatorOptions(cancel, &o->coordinator);
  cancel->callback([o, exit_code] { *exit_code = ReportStatus(Cancel(*o)); });

  CLI::App* workers = app.add_subcommand("workers", "List workers");
  workers->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(workers, &o->coordinator);
  workers->callback([o, exit_code] { *exit_code = ReportStatus(Workers(*o)); });
}

}  // namespace cairn::cli
