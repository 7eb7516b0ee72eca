// cairn submit [--dry-run] [--budget N] | cairn top-up JOB --amount N: the
// engineer's money verbs. A submission shows what the job would get now and
// cost (placement, compute, data, fees) before anything moves; the real one
// then signs the jobSubmitted entry (coordinator/submission.h) with the
// engineer's identity, and the coordinator appends it unchanged.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "coordinator/submission.h"
#include "data/data_client.h"
#include "jobspec/job_spec.h"
#include "runtime/base/clock.h"
#include "runtime/base/encoding.h"
#include "runtime/base/files.h"
#include "runtime/crypto/sha256.h"
#include "scheduler/estimate.h"

namespace cairn::cli {
namespace {

using nlohmann::json;
using scheduler::Credits;

struct SubmitCmd {
  CoordinatorAddress coordinator;
  std::string file, job;
  double budget = -1;  // credits; < 0: the spec's
  double amount = 0;
  bool follow = false, json = false, dry_run = false;
};

StatusOr<uint64_t> Micros(double credits, const char* flag) {
  if (!(credits >= 0) || credits > 1e12) return InvalidArgumentError(std::string(flag) + " must be a number of credits >= 0");
  return static_cast<uint64_t>(std::llround(credits * 1e6));
}

// Rewrites the spec's YAML with `edit` applied to its root.
template <typename F>
std::string EditYaml(const std::string& yaml, F edit) {
  YAML::Node root = YAML::Load(yaml);
  edit(root);
  YAML::Emitter out;
  out << root;
  return out.c_str();
}

// What the spec needs before it goes: an uploaded TorchScript module, the
// author, the --budget. Returns the exact text that will be signed.
StatusOr<std::string> PrepareSpec(const SubmitCmd& o, const Ed25519PrivateKey& me) {
  ASSIGN_OR_RETURN(std::string yaml, ReadFileToString(o.file));
  ASSIGN_OR_RETURN(jobspec::JobSpec parsed, jobspec::ParseJobSpec(yaml, o.file));  // the same errors, before any network
  if (!parsed.torchscript_path.empty() && parsed.torchscript_path.rfind("sha256:", 0) != 0) {
    // Workers cannot read this machine's files: upload the module to the
    // coordinator's blob store and name it by hash in the submitted spec.
    std::string path = parsed.torchscript_path;
    if (path[0] != '/') path = std::filesystem::path(o.file).parent_path().string() + "/" + path;
    ASSIGN_OR_RETURN(std::string module, ReadFileToString(path));
    if (!o.dry_run) {
      auto [host, port] = CoordinatorHttp(o.coordinator);
      data::DataClient client(host, port, "");
      RETURN_IF_ERROR(client.PutBlob(module));
      std::fprintf(stderr, "uploaded %s (%zu bytes) for the workers\n", path.c_str(), module.size());
    }
    const std::string hash = "sha256:" + HexEncode(DigestView(Sha256(module)));
    yaml = EditYaml(yaml, [&](YAML::Node& root) { root["model"]["torchscript"] = hash; });
  }
  if (parsed.kind == jobspec::JobKind::kTrain && parsed.output_author.empty()) {
    // The submitter is the model's author (its royalties' payee) unless the
    // spec names another account; the spec hash in jobSubmitted covers it.
    const std::string account = HexEncode(me.public_key().bytes());
    yaml = EditYaml(yaml, [&](YAML::Node& root) { root["output"]["author"] = account; });
    if (!o.json) {
      std::fprintf(stderr, "the model's author is you (account %s...; set output.author to name another)\n",
                   account.substr(0, 16).c_str());
    }
  }
  if (o.budget >= 0) {
    ASSIGN_OR_RETURN(uint64_t micros, Micros(o.budget, "--budget"));
    yaml = EditYaml(yaml, [&](YAML::Node& root) { root["budget"] = static_cast<double>(micros) / 1e6; });
  }
  return yaml;
}

json EstimateJson(const wire::EstimateReply& e, uint64_t budget) {
  json workers = json::array();
  for (const auto& w : e.workers) {
    workers.push_back({{"id", w.id}, {"name", w.name}, {"tflops", w.tflops}, {"price_per_hour_micros", w.price_per_hour_micros}});
  }
  return {{"workers", workers},          {"unplaced", e.unplaced},         {"hours", e.hours},
          {"samples", e.samples},        {"compute_micros", e.compute_micros}, {"data_micros", e.data_micros},
          {"fee_micros", e.fee_micros},  {"total_micros", e.total_micros()}, {"budget_micros", budget},
          {"available_micros", e.available_micros}, {"basis", e.basis},  {"refusal", e.refusal}};
}

void PrintEstimate(const wire::EstimateReply& e, uint64_t budget) {
  if (e.workers.empty()) {
    std::printf("placement  none now (%s)\n", e.unplaced.c_str());
  } else {
    std::printf("placement  %zu worker%s:\n", e.workers.size(), e.workers.size() == 1 ? "" : "s");
    for (const auto& w : e.workers) {
      std::printf("  %-14s %-16s %8.1f GFLOP/s  %s/h\n", w.id.substr(0, 12).c_str(), w.name.substr(0, 16).c_str(),
                  w.tflops * 1000, Credits(w.price_per_hour_micros).c_str());
    }
  }
  if (e.samples == 0 && e.compute_micros == 0) {
    if (!e.basis.empty()) std::printf("cost       %s\n", e.basis.c_str());
    return;
  }
  std::printf("time       %.2f min (%s)\n", e.hours * 60, e.basis.c_str());
  std::printf("compute    %s\n", Credits(e.compute_micros).c_str());
  std::printf("data       %s (%llu samples)\n", Credits(e.data_micros).c_str(), static_cast<unsigned long long>(e.samples));
  if (e.fee_micros > 0) std::printf("fee        %s (the parent model's fine-tuning fee)\n", Credits(e.fee_micros).c_str());
  std::printf("estimate   %s; budget %s; you have %s\n", Credits(e.total_micros()).c_str(), Credits(budget).c_str(),
              Credits(static_cast<uint64_t>(std::max<int64_t>(0, e.available_micros))).c_str());
  if (budget > 0 && budget < e.total_micros()) {
    std::printf("note       the budget covers about %.0f%% of the estimate: the job stops as budget exhausted "
                "and resumes after `cairn top-up`\n",
                100.0 * static_cast<double>(budget) / static_cast<double>(e.total_micros()));
  }
}

Status Submit(const SubmitCmd& o, int* exit_code) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());
  ASSIGN_OR_RETURN(std::string yaml, PrepareSpec(o, me));
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(yaml, o.file));
  ASSIGN_OR_RETURN(Connection c, ConnectToCoordinator(o.coordinator, me));
  ASSIGN_OR_RETURN(wire::EstimateReply est, Expect<wire::EstimateReply>(c.Call(
                                                 wire::EstimateBody{yaml, o.file, me.public_key().bytes()})));
  if (o.dry_run) {
    if (o.json) {
      std::printf("%s\n", EstimateJson(est, spec.budget_micros).dump(2).c_str());
    } else {
      PrintEstimate(est, spec.budget_micros);
      if (!est.refusal.empty()) std::printf("refused    %s\n", est.refusal.c_str());
    }
    return OkStatus();
  }
  if (!est.refusal.empty()) return FailedPreconditionError(est.refusal);
  if (!o.json) PrintEstimate(est, spec.budget_micros);
  coordinator::SubmissionFacts facts{coordinator::NewJobId(spec.name), yaml, est.datasets, spec.budget_micros,
                                     spec.max_price_per_hour_micros, est.parent_model, 0, 0, 0};
  coordinator::SetVerifyTerms(spec.verify, &facts);
  ASSIGN_OR_RETURN(std::string entry, coordinator::SignSubmission(me, Clock::System()->NowUnixMillis(), facts));
  ASSIGN_OR_RETURN(wire::SubmittedBody s, Expect<wire::SubmittedBody>(c.Call(wire::SubmitBody{yaml, o.file, entry})));
  if (o.json && !o.follow) {
    std::printf("%s\n", json{{"id", s.job_id}, {"estimate", EstimateJson(est, spec.budget_micros)}}.dump(2).c_str());
  } else {
    std::printf("submitted %s\n", s.job_id.c_str());
  }
  std::fflush(stdout);
  if (!o.follow) return OkStatus();
  ASSIGN_OR_RETURN(wire::JobInfo end, StreamLogs(c, s.job_id, true));
  std::printf("job %s %s%s\nspent %s of %s, refunded %s\n", end.id.c_str(), end.state.c_str(),
              end.message.empty() ? "" : (": " + end.message).c_str(), Credits(end.spent_micros).c_str(),
              Credits(end.budget_micros).c_str(), Credits(end.refunded_micros).c_str());
  if (end.state != "succeeded") *exit_code = 1;
  return OkStatus();
}

Status TopUp(const SubmitCmd& o) {
  ASSIGN_OR_RETURN(uint64_t micros, Micros(o.amount, "--amount"));
  if (micros == 0) return InvalidArgumentError("--amount must be more than 0 credits");
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());
  ASSIGN_OR_RETURN(Connection c, ConnectToCoordinator(o.coordinator, me));
  ASSIGN_OR_RETURN(std::string entry, coordinator::SignTopUp(me, Clock::System()->NowUnixMillis(), o.job, micros));
  ASSIGN_OR_RETURN(wire::JobInfo j, Expect<wire::JobInfo>(c.Call(wire::TopUpBody{entry})));
  std::printf("%s: budget %s, spent %s (%s)\n", j.id.c_str(), Credits(j.budget_micros).c_str(),
              Credits(j.spent_micros).c_str(), j.state.c_str());
  return OkStatus();
}

}  // namespace

void RegisterSubmitCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<SubmitCmd>();
  CLI::App* submit = app.add_subcommand("submit", "Submit a job spec (YAML): shows the placement and cost estimate, "
                                                  "then signs the submission and puts the budget in escrow");
  submit->add_option("spec", o->file, "Job spec file, e.g. examples/fashion-mnist.yaml")->required()->check(CLI::ExistingFile);
  submit->add_flag("--dry-run", o->dry_run, "Show the placement and cost estimate only; nothing is kept or spent");
  submit->add_option("--budget", o->budget, "Credits to hold in escrow (overrides the spec's budget:)");
  submit->add_flag("--follow,-f", o->follow, "Stream the job's logs; exit 0 only if it succeeds");
  submit->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(submit, &o->coordinator);
  submit->callback([o, exit_code] {
    int code = 0;
    *exit_code = ReportStatus(Submit(*o, &code));
    if (*exit_code == 0) *exit_code = code;
  });

  CLI::App* top = app.add_subcommand("top-up", "Add credits to a job's escrow; a job stopped as budget exhausted "
                                               "resumes from its checkpoint");
  top->add_option("job", o->job, "Job id")->required();
  top->add_option("--amount", o->amount, "Credits to add")->required();
  AddCoordinatorOptions(top, &o->coordinator);
  top->callback([o, exit_code] { *exit_code = ReportStatus(TopUp(*o)); });
}

}  // namespace cairn::cli
