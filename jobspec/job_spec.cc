#include "jobspec/job_spec.h"

#include <cmath>
#include <set>

#include <yaml-cpp/yaml.h>

#include "jobspec/spec_parser.h"

#include "runtime/base/encoding.h"
#include "runtime/base/files.h"

namespace cairn::jobspec {

using internal::Parser;

namespace {

bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

StatusOr<JobSpec> Parser::Parse(const YAML::Node& root) const {
  RETURN_IF_ERROR(Keys(root, "", {"name", "kind", "model", "datasets", "hyperparameters", "resources", "strategy",
                                  "budget", "checkpoint_every", "max_retries", "benchmark", "output", "priority",
                                  "parent", "price", "allow_unknown_licenses", "verify", "target"}));
  JobSpec spec;
  if (!root["name"]) return Error(root, "name", "is required");
  ASSIGN_OR_RETURN(spec.name, Scalar(root["name"], "name"));
  if (!ValidName(spec.name)) {
    return Error(root["name"], "name", "must be lowercase letters, digits and '-', at most 63 characters, got '" + spec.name + "'");
  }
  if (root["kind"]) {
    ASSIGN_OR_RETURN(std::string kind, Scalar(root["kind"], "kind"));
    if (kind == "train") spec.kind = JobKind::kTrain;
    else if (kind == "serve") spec.kind = JobKind::kServe;
    else if (kind == "benchmark") spec.kind = JobKind::kBenchmark;
    else if (kind == "verify") spec.kind = JobKind::kVerify;
    else return Error(root["kind"], "kind", "must be train, serve or benchmark, got '" + kind + "'");
  }
  if (const YAML::Node m = root["model"]) {
    if (m.IsMap()) {
      RETURN_IF_ERROR(Keys(m, "model.", {"torchscript"}));
      ASSIGN_OR_RETURN(spec.torchscript_path, Scalar(m["torchscript"], "model.torchscript"));
    } else {
      ASSIGN_OR_RETURN(spec.model, Scalar(m, "model"));
    }
  } else if (spec.kind != JobKind::kBenchmark && spec.kind != JobKind::kVerify) {
    return Error(root, "model", "is required for " + std::string(JobKindName(spec.kind)) + " jobs");
  }
  if (root["datasets"]) {
    ASSIGN_OR_RETURN(spec.datasets, StringList(root["datasets"], "datasets"));
  }
  if (spec.kind == JobKind::kTrain && spec.datasets.empty()) {
    return Error(root, "datasets", "a train job needs at least one dataset");
  }
  if (root["hyperparameters"]) {
    ASSIGN_OR_RETURN(spec.hyperparameters, ScalarMap(root["hyperparameters"], "hyperparameters"));
  }
  if (const YAML::Node r = root["resources"]) {
    RETURN_IF_ERROR(Keys(r, "resources.", {"workers", "device", "gpus", "min_memory_gb", "regions", "max_price_per_hour"}));
    if (r["workers"]) {
      ASSIGN_OR_RETURN(uint64_t w, Integer(r["workers"], "resources.workers", 1, 1024));
      spec.workers = static_cast<uint32_t>(w);
    }
    if (r["device"]) {
      ASSIGN_OR_RETURN(std::string d, Scalar(r["device"], "resources.device"));
      if (d == "cpu") spec.device = Device::kCpu;
      else if (d == "cuda") spec.device = Device::kCuda;
      else return Error(r["device"], "resources.device", "must be cpu or cuda, got '" + d + "'");
    }
    if (r["gpus"]) {
      ASSIGN_OR_RETURN(uint64_t g, Integer(r["gpus"], "resources.gpus", 1, 16));
      spec.gpus = static_cast<uint32_t>(g);
      if (spec.device != Device::kCuda) return Error(r["gpus"], "resources.gpus", "needs device: cuda");
    }
    if (r["min_memory_gb"]) {
      ASSIGN_OR_RETURN(uint64_t gb, Integer(r["min_memory_gb"], "resources.min_memory_gb", 0, 1u << 20));
      spec.min_memory_bytes = gb << 30;
    }
    if (r["regions"]) {
      ASSIGN_OR_RETURN(spec.regions, StringList(r["regions"], "resources.regions"));
    }
    if (r["max_price_per_hour"]) {
      ASSIGN_OR_RETURN(spec.max_price_per_hour_micros, Credits(r["max_price_per_hour"], "resources.max_price_per_hour"));
    }
  }
  if (const YAML::Node s = root["strategy"]) {
    std::string name;
    if (s.IsMap()) {
      if (s.size() != 1) return Error(s, "strategy", "must name exactly one strategy");
      name = s.begin()->first.as<std::string>("");
      if (!s.begin()->second.IsNull()) {
        ASSIGN_OR_RETURN(spec.strategy_options, ScalarMap(s.begin()->second, "strategy." + name));
      }
    } else {
      ASSIGN_OR_RETURN(name, Scalar(s, "strategy"));
    }
    if (name == "single") spec.strategy = Strategy::kSingle;
    else if (name == "ddp") spec.strategy = Strategy::kDdp;
    else if (name == "diloco") spec.strategy = Strategy::kDiloco;
    else return Error(s, "strategy", "must be single, ddp or diloco, got '" + name + "'");
  } else if (spec.workers > 1 && spec.kind == JobKind::kTrain) {
    spec.strategy = Strategy::kDdp;
  }
  if (spec.kind == JobKind::kTrain && spec.device == Device::kCuda && spec.strategy == Strategy::kDdp && spec.workers > 1) {
    // ddp all-reduces every step: on GPUs that is NCCL between the GPUs of
    // one worker; across volunteers' links, diloco's rare exchange is the fit.
    return Error(root["strategy"], "strategy",
                 "ddp on cuda runs inside one worker (NCCL); across " + std::to_string(spec.workers) +
                     " workers use strategy diloco (or device cpu, where ddp uses Gloo)");
  }
  if (spec.kind == JobKind::kTrain && spec.gpus > 1 && spec.strategy != Strategy::kDdp) {
    return Error(root["strategy"], "strategy",
                 "resources.gpus: " + std::to_string(spec.gpus) + " trains one rank per GPU with ddp; set strategy: ddp");
  }
  if (spec.strategy == Strategy::kSingle && spec.workers > 1 && spec.kind == JobKind::kTrain) {
    return Error(root["strategy"], "strategy", "single cannot use " + std::to_string(spec.workers) + " workers; use ddp or diloco");
  }
  if (root["budget"]) {
    ASSIGN_OR_RETURN(spec.budget_micros, Credits(root["budget"], "budget"));
  }
  if (root["checkpoint_every"]) {
    ASSIGN_OR_RETURN(uint64_t v, Integer(root["checkpoint_every"], "checkpoint_every", 1, 1'000'000));
    spec.checkpoint_every = static_cast<uint32_t>(v);
  }
  if (root["max_retries"]) {
    ASSIGN_OR_RETURN(uint64_t v, Integer(root["max_retries"], "max_retries", 0, 100));
    spec.max_retries = static_cast<uint32_t>(v);
  }
  if (root["priority"]) {
    ASSIGN_OR_RETURN(uint64_t v, Integer(root["priority"], "priority", 0, 1000));
    spec.priority = static_cast<int32_t>(v);
  }
  if (const YAML::Node b = root["benchmark"]) {
    if (spec.kind != JobKind::kBenchmark) return Error(b, "benchmark", "only applies to kind: benchmark");
    RETURN_IF_ERROR(Keys(b, "benchmark.", {"seconds"}));
    if (b["seconds"]) {
      ASSIGN_OR_RETURN(uint64_t v, Integer(b["seconds"], "benchmark.seconds", 1, 86400));
      spec.benchmark_seconds = static_cast<uint32_t>(v);
    }
  }
  if (const YAML::Node a = root["allow_unknown_licenses"]) {
    ASSIGN_OR_RETURN(std::string v, Scalar(a, "allow_unknown_licenses"));
    if (v == "true") spec.allow_unknown_licenses = true;
    else if (v != "false") return Error(a, "allow_unknown_licenses", "must be true or false, got '" + v + "'");
  }
  if (const YAML::Node p = root["parent"]) {
    ASSIGN_OR_RETURN(spec.parent_model, Scalar(p, "parent"));
    if (spec.kind != JobKind::kTrain) return Error(p, "parent", "only train jobs fine-tune a parent model");
  }
  if (const YAML::Node p = root["price"]) {
    if (spec.kind != JobKind::kServe) return Error(p, "price", "only applies to kind: serve");
    RETURN_IF_ERROR(Keys(p, "price.", {"per_request", "per_1k_tokens", "worker_share"}));
    if (p["per_request"]) {
      ASSIGN_OR_RETURN(spec.price_per_request_micros, Credits(p["per_request"], "price.per_request"));
    }
    if (p["per_1k_tokens"]) {
      ASSIGN_OR_RETURN(spec.price_per_1k_tokens_micros, Credits(p["per_1k_tokens"], "price.per_1k_tokens"));
    }
    if (p["worker_share"]) {
      ASSIGN_OR_RETURN(uint64_t micros, Credits(p["worker_share"], "price.worker_share"));
      if (micros > 1'000'000) return Error(p["worker_share"], "price.worker_share", "must be between 0 and 1");
      spec.worker_share_bps = static_cast<uint32_t>(micros / 100);
    }
  }
  if (const YAML::Node o = root["output"]) {
    RETURN_IF_ERROR(Keys(o, "output.", {"model", "license", "author", "shares", "terms", "chat_template"}));
    if (o["chat_template"]) {
      ASSIGN_OR_RETURN(spec.output_chat_template, Scalar(o["chat_template"], "output.chat_template"));
      // The names serve/chat_template.h knows.
      if (spec.output_chat_template != "roles" && spec.output_chat_template != "plain") {
        return Error(o["chat_template"], "output.chat_template", "must be roles or plain (docs/serving.md shows each)");
      }
    }
    if (const YAML::Node t = o["terms"]) {
      if (!t.IsMap()) return Error(t, "output.terms", "must be a mapping, e.g. {finetune_fee: 0.5}");
      RETURN_IF_ERROR(Keys(t, "output.terms.", {"finetune_fee"}));
      if (t["finetune_fee"]) {
        ASSIGN_OR_RETURN(spec.output_finetune_fee_micros, Credits(t["finetune_fee"], "output.terms.finetune_fee"));
      }
    }
    if (o["model"]) {
      ASSIGN_OR_RETURN(spec.output_model, Scalar(o["model"], "output.model"));
    }
    if (o["license"]) {
      ASSIGN_OR_RETURN(spec.output_license, Scalar(o["license"], "output.license"));
    }
    if (o["author"]) {
      ASSIGN_OR_RETURN(spec.output_author, Scalar(o["author"], "output.author"));
      RETURN_IF_ERROR(AccountHex(o["author"], "output.author", &spec.output_author));
    }
    if (const YAML::Node sh = o["shares"]) {
      if (!sh.IsMap()) return Error(sh, "output.shares", "must map accounts to basis points");
      uint64_t total = 0;
      for (const auto& kv : sh) {
        std::string account = kv.first.as<std::string>("");
        RETURN_IF_ERROR(AccountHex(kv.first, "output.shares", &account));
        ASSIGN_OR_RETURN(uint64_t bps, Integer(kv.second, "output.shares." + account, 1, 10000));
        spec.output_shares[account] = static_cast<uint32_t>(bps);
        total += bps;
      }
      if (total != 10000) return Error(sh, "output.shares", "must sum to 10000 basis points, got " + std::to_string(total));
    }
  }
  RETURN_IF_ERROR(ParseVerify(root, &spec));
  return spec;
}

const char* JobKindName(JobKind k) {
  switch (k) {
    case JobKind::kTrain: return "train";
    case JobKind::kServe: return "serve";
    case JobKind::kBenchmark: return "benchmark";
    case JobKind::kVerify: return "verify";
  }
  return "unknown";
}

const char* StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kSingle: return "single";
    case Strategy::kDdp: return "ddp";
    case Strategy::kDiloco: return "diloco";
  }
  return "unknown";
}

StatusOr<JobSpec> ParseJobSpec(const std::string& yaml, const std::string& source) {
  if (yaml.size() > 1 << 20) return InvalidArgumentError(source + ": spec is larger than 1 MiB");
  try {
    YAML::Node root = YAML::Load(yaml);
    if (!root.IsDefined() || root.IsNull()) return InvalidArgumentError(source + ": the spec is empty");
    return Parser(source).Parse(root);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(source + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
}

StatusOr<JobSpec> LoadJobSpec(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJobSpec(text, path);
}

}  // namespace cairn::jobspec
