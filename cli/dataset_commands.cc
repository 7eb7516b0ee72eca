// cairn dataset add|list|show: register data with the coordinator under
// your identity. `add` chunks the files (data/builder.h), uploads the chunks
// the coordinator lacks with a progress bar, signs a datasetRegistered entry
// and registers it; the coordinator appends it to the ledger.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "data/builder.h"
#include "data/data_client.h"
#include "data/dataset_registry.h"
#include "ledger/entry.h"
#include "runtime/base/encoding.h"

namespace cairn::cli {
namespace {

struct DatasetAddCmd {
  CoordinatorAddress coordinator;
  std::string path, name, format = "text", license;
  double price_per_1k = 0;
  bool json = false;
};

struct DatasetQueryCmd {
  CoordinatorAddress coordinator;
  std::string name;
  bool json = false;
};

void Progress(size_t done, size_t total, uint64_t sent, std::chrono::steady_clock::time_point start) {
  const bool tty = isatty(fileno(stderr));
  if (!tty && done != total && done % std::max<size_t>(1, total / 10) != 0) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int width = 30, filled = static_cast<int>(width * done / std::max<size_t>(1, total));
  std::fprintf(stderr, "%supload [%s%s] %zu/%zu chunks, %.1f MiB sent, %.1f MiB/s%s", tty ? "\r" : "",
               std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done, total,
               sent / 1048576.0, s > 0 ? sent / 1048576.0 / s : 0.0, tty && done != total ? "" : "\n");
  std::fflush(stderr);
}

Status Add(const DatasetAddCmd& o) {
  ASSIGN_OR_RETURN(data::Format format, data::ParseFormat(o.format));
  ASSIGN_OR_RETURN(Ed25519PrivateKey identity, LoadOrCreateIdentity());
  std::fprintf(stderr, "chunking %s as %s ...\n", o.path.c_str(), o.format.c_str());
  ASSIGN_OR_RETURN(data::BuiltDataset built, data::BuildDataset(o.path, format));
  data::Manifest& m = built.manifest;
  m.name = o.name;
  m.license = o.license;
  m.price_per_1k_micros = static_cast<uint64_t>(std::llround(o.price_per_1k * 1e6));
  const Sha256Digest id = data::DatasetId(m);
  auto [host, port] = CoordinatorHttp(o.coordinator);
  data::DataClient client(host, port, "");
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(client.UploadAll(built.chunks, [&](size_t d, size_t t, uint64_t s) { Progress(d, t, s, start); }));
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  ASSIGN_OR_RETURN(std::string entry, data::SignDatasetRegistration(identity, m, now));
  ASSIGN_OR_RETURN(uint64_t index, client.Register(m, entry));
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"name", m.name}, {"dataset_id", HexEncode(DigestView(id))},
                                       {"ledger_index", index}, {"samples", m.TotalSamples()},
                                       {"chunks", m.TotalChunks()}, {"bytes", m.TotalBytes()}}.dump().c_str());
    return OkStatus();
  }
  std::printf("registered dataset '%s'\n  id        %s\n  splits   ", m.name.c_str(), HexEncode(DigestView(id)).c_str());
  for (const auto& s : m.splits) std::printf(" %s: %llu samples", s.name.c_str(), static_cast<unsigned long long>(s.samples));
  std::printf("\n  chunks    %zu (%.1f MiB)\n  license   %s, %.6f credits per 1,000 samples\n  ledger    entry %llu, "
              "signed by %s\n",
              m.TotalChunks(), m.TotalBytes() / 1048576.0, m.license.c_str(), o.price_per_1k,
              static_cast<unsigned long long>(index), identity.public_key().KeyId().c_str());
  return OkStatus();
}

Status List(const DatasetQueryCmd& o) {
  auto [host, port] = CoordinatorHttp(o.coordinator);
  data::DataClient client(host, port, "");
  ASSIGN_OR_RETURN(std::string body, client.ListJson());
  if (o.json) {
    std::printf("%s", body.c_str());
    return OkStatus();
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return InternalError("unexpected reply: " + body);
  std::printf("%-24s %-18s %-34s %s\n", "NAME", "ID", "CONTRIBUTOR", "LEDGER");
  for (const auto& d : j) {
    // Contributors print as key ids, as `cairn keys show` prints them.
    std::string contributor = d.value("contributor", "");
    auto raw = HexDecode(contributor);
    auto key = raw.ok() ? Ed25519PublicKey::FromBytes(*raw) : StatusOr<Ed25519PublicKey>(raw.status());
    if (key.ok()) contributor = key->KeyId();
    std::printf("%-24s %-18s %-34s %llu\n", d.value("name", "").c_str(), d.value("dataset_id", "").substr(0, 16).c_str(),
                contributor.c_str(),
                static_cast<unsigned long long>(d.value("ledger_index", uint64_t{0})));
  }
  if (j.empty()) std::printf("(no datasets; add one with `cairn dataset add`)\n");
  return OkStatus();
}

Status Show(const DatasetQueryCmd& o) {
  auto [host, port] = CoordinatorHttp(o.coordinator);
  data::DataClient client(host, port, "");
  ASSIGN_OR_RETURN(data::Manifest m, client.GetManifest(o.name));
  if (o.json) {
    std::printf("%s\n", data::ManifestToJson(m).c_str());
    return OkStatus();
  }
  std::printf("dataset '%s' (%s, %s)\n  id       %s (verified against its chunk hashes)\n", m.name.c_str(),
              data::FormatName(m.format), m.license.c_str(), HexEncode(DigestView(data::DatasetId(m))).c_str());
  for (const auto& s : m.splits) {
    std::printf("  split %-6s %llu samples in %zu chunks\n", s.name.c_str(), static_cast<unsigned long long>(s.samples),
                s.chunks.size());
  }
  return OkStatus();
}

}  // namespace

void RegisterDatasetCommands(CLI::App& app, int* exit_code) {
  CLI::App* ds = app.add_subcommand("dataset", "Register datasets and list them");
  ds->require_subcommand(1);

  auto a = std::make_shared<DatasetAddCmd>();
  CLI::App* add = ds->add_subcommand("add", "Chunk, upload and register a dataset under your identity");
  add->add_option("path", a->path, "A directory of IDX files (idx), or one file (text, tokens-u16)")->required();
  add->add_option("--name", a->name, "Name jobs refer to it by")->required()->check([](const std::string& s) {
    for (char c : s) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return std::string("letters, digits, '-', '_' and '.' only");
    }
    return s.empty() || s.size() > 63 ? std::string("1 to 63 characters") : std::string();
  });
  add->add_option("--format", a->format, "idx | text | tokens-u16")->capture_default_str()->check(CLI::IsMember({"idx", "text", "tokens-u16"}));
  add->add_option("--license", a->license, "SPDX license identifier, e.g. MIT, CC-BY-4.0")->required();
  add->add_option("--price-per-1k", a->price_per_1k, "Credits per 1,000 samples trained on")->capture_default_str()->check(CLI::Range(0.0, 1e6));
  add->add_flag("--json", a->json, "Print the result as JSON");
  AddCoordinatorOptions(add, &a->coordinator);
  add->callback([a, exit_code] { *exit_code = ReportStatus(Add(*a)); });

  auto l = std::make_shared<DatasetQueryCmd>();
  CLI::App* list = ds->add_subcommand("list", "List registered datasets");
  list->add_flag("--json", l->json, "Print JSON");
  AddCoordinatorOptions(list, &l->coordinator);
  list->callback([l, exit_code] { *exit_code = ReportStatus(List(*l)); });

  auto s = std::make_shared<DatasetQueryCmd>();
  CLI::App* show = ds->add_subcommand("show", "Show a dataset's manifest (verified against its id)");
  show->add_option("name", s->name, "Name or id")->required();
  show->add_flag("--json", s->json, "Print the manifest JSON");
  AddCoordinatorOptions(show, &s->coordinator);
  show->callback([s, exit_code] { *exit_code = ReportStatus(Show(*s)); });
}

}  // namespace cairn::cli
