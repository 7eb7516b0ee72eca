// cairn models list|pull: the models training jobs registered. `pull`
// fetches the TorchScript file by its hash (verified), so what lands on
// disk is exactly what the ledger's modelRegistered entry names; it loads
// with plain LibTorch (torch::jit::load / torch.jit.load), no cairn needed.
#include <cstdio>
#include <fstream>

#include "coordinator/http_client.h"
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "data/data_client.h"
#include "runtime/base/encoding.h"

namespace cairn::cli {
namespace {

struct ModelsCmd {
  CoordinatorAddress coordinator;
  std::string name, out;
  bool json = false;
};

StatusOr<nlohmann::json> GetJson(const CoordinatorAddress& addr, const std::string& path) {
  auto [host, port] = CoordinatorHttp(addr);
  return coordinator::CoordinatorHttpClient(host, port).GetJson(path);
}

Status List(const ModelsCmd& o) {
  ASSIGN_OR_RETURN(nlohmann::json j, GetJson(o.coordinator, "/models"));
  if (o.json) {
    std::printf("%s\n", j.dump(1).c_str());
    return OkStatus();
  }
  std::printf("%-28s %-18s %-22s %-14s %-14s %-18s %s\n", "NAME", "HASH", "JOB", "LICENSE", "FINETUNE FEE", "AUTHOR", "DATASETS");
  for (const auto& m : j) {
    const uint64_t fee = m.contains("terms") ? m["terms"].value("finetune_fee_micros", uint64_t{0}) : 0;
    char fee_text[32];
    std::snprintf(fee_text, sizeof(fee_text), "%.6f", static_cast<double>(fee) / 1e6);
    std::printf("%-28s %-18s %-22s %-14s %-14s %-18s %zu\n", m.value("name", "").c_str(), m.value("blob", "").substr(0, 16).c_str(),
                m.value("job", "").c_str(), m.value("license", "").c_str(), fee_text, m.value("author", "").substr(0, 16).c_str(),
                m.value("datasets", nlohmann::json::array()).size());
  }
  if (j.empty()) std::printf("(no models yet; a finished `kind: train` job registers one)\n");
  return OkStatus();
}

Status Pull(const ModelsCmd& o) {
  ASSIGN_OR_RETURN(nlohmann::json m, GetJson(o.coordinator, "/models/" + o.name));
  ASSIGN_OR_RETURN(Sha256Digest h, DigestFromHex(m.value("blob", ""), "model '" + o.name + "'.blob"));
  auto [host, port] = CoordinatorHttp(o.coordinator);
  ASSIGN_OR_RETURN(std::string bytes, coordinator::CoordinatorHttpClient(host, port).Blob(h));  // hash-verified
  const std::string path = o.out.empty() ? o.name + ".pt" : o.out;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()))) return UnavailableError("cannot write " + path);
  std::printf("wrote %s (%zu bytes, sha256 %s)\n  model '%s' from job %s; load it with torch::jit::load(\"%s\")\n",
              path.c_str(), bytes.size(), m.value("blob", "").c_str(), o.name.c_str(), m.value("job", "").c_str(), path.c_str());
  return OkStatus();
}

}  // namespace

void RegisterModelCommands(CLI::App& app, int* exit_code) {
  CLI::App* models = app.add_subcommand("models", "List trained models and pull them as TorchScript files");
  models->require_subcommand(1);
  auto l = std::make_shared<ModelsCmd>();
  CLI::App* list = models->add_subcommand("list", "List registered models");
  list->add_flag("--json", l->json, "Print JSON");
  AddCoordinatorOptions(list, &l->coordinator);
  list->callback([l, exit_code] { *exit_code = ReportStatus(List(*l)); });
  auto p = std::make_shared<ModelsCmd>();
  CLI::App* pull = models->add_subcommand("pull", "Download a model as a TorchScript file (hash-verified)");
  pull->add_option("name", p->name, "Model name")->required();
  pull->add_option("-o,--output", p->out, "File to write (default NAME.pt)");
  AddCoordinatorOptions(pull, &p->coordinator);
  pull->callback([p, exit_code] { *exit_code = ReportStatus(Pull(*p)); });
}

}  // namespace cairn::cli
