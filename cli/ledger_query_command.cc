// cairn ledger checkpoint | get | prove | consistency | verify | balances:
// queries against a data directory or a read API URL. Everything read is
// verified against the log's verifier key before it is printed as true.
#include <cstdio>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ledger_commands.h"
#include "ledger/data_dir.h"
#include "ledger/entry_json.h"
#include "ledger/read_api_client.h"
#include "ledger/sqlite_store.h"
#include "ledger/summary.h"
#include "ledger/verify.h"
#include "runtime/base/encoding.h"
#include "runtime/base/files.h"
#include "runtime/crypto/key_file.h"

namespace cairn::cli {
namespace {

using nlohmann::json;
namespace lg = ::cairn::ledger;

struct QueryOptions {
  std::string data_dir;
  std::string url;
  std::string target;  // verify / balances positional: DIR or URL
  std::string vkey;
  uint64_t index = 0;
  uint64_t size = 0;
  uint64_t from = 0, to = 0;
  std::string from_checkpoint;
  bool json = false;
  bool summary = false;
};

// What a query reads from, and the key it verifies against.
struct Source {
  std::unique_ptr<lg::SqliteStore> store;  // data dir
  std::unique_ptr<lg::LogReader> reader;
  std::string url;                          // read API
  lg::NoteVerifier vkey;
};

bool IsUrl(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

StatusOr<Source> OpenSource(const QueryOptions& o) {
  std::string dir = o.data_dir, url = o.url;
  if (!o.target.empty()) (IsUrl(o.target) ? url : dir) = o.target;
  if (dir.empty() == url.empty()) return InvalidArgumentError("give exactly one of --data-dir DIR or --url URL");
  Source s;
  if (!url.empty()) {
    s.url = url;
    ASSIGN_OR_RETURN(s.reader, lg::NewHttpReader(url));
    std::string vkey = o.vkey;
    if (vkey.empty()) {
      auto served = lg::ReadApiClient(url).VerifierKey();
      if (!served.ok()) return UnavailableError("no --vkey given and " + url + "/vkey is unavailable");
      vkey = *served;
      std::fprintf(stderr, "warning: trusting the server's own key %s; pin it with --vkey\n", vkey.c_str());
    }
    ASSIGN_OR_RETURN(s.vkey, lg::NoteVerifier::Parse(vkey));
    return s;
  }
  struct stat st {};
  if (stat((dir + "/ledger.db").c_str(), &st) != 0) return NotFoundError("no ledger in " + dir);
  ASSIGN_OR_RETURN(s.store, lg::SqliteStore::Open(dir + "/ledger.db"));
  s.reader = lg::NewStoreReader(s.store.get(), dir);
  if (!o.vkey.empty()) {
    ASSIGN_OR_RETURN(s.vkey, lg::NoteVerifier::Parse(o.vkey));
  } else {
    ASSIGN_OR_RETURN(Ed25519PrivateKey key, LoadKeyFile(dir + "/log.key"));
    ASSIGN_OR_RETURN(std::string origin, s.store->GetSetting("origin"));
    ASSIGN_OR_RETURN(s.vkey, lg::NoteVerifier::For(origin, key.public_key()));
  }
  return s;
}

StatusOr<lg::Checkpoint> VerifiedCheckpoint(Source& s, std::string* note) {
  ASSIGN_OR_RETURN(*note, s.reader->Checkpoint());
  auto cp = lg::OpenCheckpoint(*note, s.vkey);
  if (!cp.ok()) return Status(cp.status().code(), "checkpoint does not verify: " + cp.status().message());
  return cp;
}

json B64List(const std::vector<lg::Hash>& hs) {
  json out = json::array();
  for (const auto& h : hs) out.push_back(Base64Encode(DigestView(h)));
  return out;
}
std::vector<std::string> Bytes(const json& list) {
  std::vector<std::string> out;
  for (const auto& h : list) out.push_back(Base64Decode(h.get<std::string>()).value_or(""));
  return out;
}

// Fetches entry `index` and its inclusion proof for the checkpoint `cp`.
StatusOr<json> ProvenEntry(Source& s, uint64_t index, const lg::Checkpoint& cp, const std::string& note) {
  if (index >= cp.size) return OutOfRangeError("entry " + std::to_string(index) + " is past the end of the log (" + std::to_string(cp.size) + ")");
  std::string entry;
  json proof;
  if (s.store) {
    ASSIGN_OR_RETURN(entry, s.store->Entry(index));
    ASSIGN_OR_RETURN(auto tiles, s.store->AllTiles());
    ASSIGN_OR_RETURN(auto tree, lg::HashTiles::FromTiles(cp.size, tiles));
    ASSIGN_OR_RETURN(auto p, lg::InclusionProof(tree, index, cp.size));
    proof = B64List(p);
  } else {
    ASSIGN_OR_RETURN(lg::ProvenEntry served, lg::ReadApiClient(s.url).Entry(index));
    // The server proves against its own checkpoint; it must verify too.
    auto server_cp = lg::OpenCheckpoint(served.checkpoint, s.vkey);
    if (!server_cp.ok()) return DataLossError("the proof's checkpoint does not verify: " + server_cp.status().message());
    if (server_cp->size != cp.size) return UnavailableError("the log grew during the query; retry");
    entry = std::move(served.entry);
    proof = served.proof;
  }
  RETURN_IF_ERROR(lg::ValidateEntry(entry).status().WithContext("entry " + std::to_string(index)));
  Status inc = lg::VerifyInclusion(index, cp.size, lg::HashBytes(lg::LeafHash(entry)), Bytes(proof), lg::HashBytes(cp.root));
  if (!inc.ok()) return Status(inc.code(), "inclusion proof does not verify: " + inc.message());
  ASSIGN_OR_RETURN(json decoded, lg::EntryToJson(entry));
  return json{{"index", index},
              {"tree_size", cp.size},
              {"leaf_hash", Base64Encode(DigestView(lg::LeafHash(entry)))},
              {"entry", decoded},
              {"inclusion_proof", proof},
              {"checkpoint", note},
              {"verified", true}};
}

Status PrintCheckpoint(const QueryOptions& o) {
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  std::string note;
  ASSIGN_OR_RETURN(lg::Checkpoint cp, VerifiedCheckpoint(s, &note));
  if (o.json) {
    std::printf("%s\n", json{{"origin", cp.origin}, {"size", cp.size}, {"root", Base64Encode(DigestView(cp.root))},
                             {"note", note}, {"verified", true}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s", note.c_str());
    std::fprintf(stderr, "verified under %s\n", s.vkey.ToString().c_str());
  }
  return OkStatus();
}

Status Get(const QueryOptions& o, bool proof_only) {
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  std::string note;
  ASSIGN_OR_RETURN(lg::Checkpoint cp, VerifiedCheckpoint(s, &note));
  ASSIGN_OR_RETURN(json j, ProvenEntry(s, o.index, cp, note));
  if (proof_only) j.erase("entry");
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return OkStatus();
}

Status Consistency(const QueryOptions& o) {
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  std::string note;
  ASSIGN_OR_RETURN(lg::Checkpoint cp, VerifiedCheckpoint(s, &note));
  uint64_t to = o.to == 0 ? cp.size : o.to;
  if (to > cp.size) return OutOfRangeError("size " + std::to_string(to) + " is beyond the log (" + std::to_string(cp.size) + ")");
  json proof;
  if (s.store) {
    ASSIGN_OR_RETURN(auto tiles, s.store->AllTiles());
    ASSIGN_OR_RETURN(auto tree, lg::HashTiles::FromTiles(cp.size, tiles));
    ASSIGN_OR_RETURN(auto p, lg::ConsistencyProof(tree, o.from, to));
    proof = B64List(p);
  } else {
    ASSIGN_OR_RETURN(std::vector<std::string> served, lg::ReadApiClient(s.url).ConsistencyProof(o.from, to));
    proof = served;
  }
  json out = {{"from", o.from}, {"to", to}, {"proof", proof}, {"verified", false}};
  if (!o.from_checkpoint.empty() && to == cp.size) {
    ASSIGN_OR_RETURN(std::string old_note, ReadFileToString(o.from_checkpoint));
    auto old_cp = lg::OpenCheckpoint(old_note, s.vkey);
    if (!old_cp.ok()) return Status(old_cp.status().code(), o.from_checkpoint + ": " + old_cp.status().message());
    if (old_cp->size != o.from) return InvalidArgumentError(o.from_checkpoint + " is for size " + std::to_string(old_cp->size));
    Status v = lg::VerifyConsistency(o.from, to, lg::HashBytes(old_cp->root), lg::HashBytes(cp.root), Bytes(proof));
    if (!v.ok()) return Status(v.code(), "the log is NOT consistent with " + o.from_checkpoint + ": " + v.message());
    out["verified"] = true;
  } else {
    std::fprintf(stderr, "note: pass --from-checkpoint FILE (a checkpoint you saved at size %llu) to verify\n",
                 static_cast<unsigned long long>(o.from));
  }
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return OkStatus();
}


StatusOr<lg::VerifyReport> Replay(const QueryOptions& o, Source& s, bool show_progress) {
  show_progress = show_progress && isatty(STDERR_FILENO);
  auto progress = [&](uint64_t done, uint64_t total) {
    if (show_progress) std::fprintf(stderr, "\rverified %llu / %llu entries", static_cast<unsigned long long>(done),
                                    static_cast<unsigned long long>(total));
  };
  auto report = lg::VerifyLog(*s.reader, s.vkey, progress);
  if (show_progress) std::fprintf(stderr, "\n");
  return report;
}

Status Verify(const QueryOptions& o) {
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  ASSIGN_OR_RETURN(lg::VerifyReport r, Replay(o, s, !o.json));
  if (o.json) {
    std::printf("%s\n", json{{"ok", true}, {"size", r.checkpoint.size}, {"entries", r.entries},
                             {"tiles_compared", r.tiles_compared}, {"credited_micros", r.payouts->total_credited()},
                             {"verdicts", lg::VerdictSummary(*r.payouts)}, {"reputations", lg::ReputationSummary(*r.payouts)},
                             {"payouts", lg::PayoutSummary(*r.payouts)}}
                            .dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("ok: %llu entries, every signature, hash and balance checks out (%llu hash tiles compared)\n",
                static_cast<unsigned long long>(r.entries), static_cast<unsigned long long>(r.tiles_compared));
    std::printf("checkpoint: %s size %llu root %s\n", r.checkpoint.origin.c_str(),
                static_cast<unsigned long long>(r.checkpoint.size), Base64Encode(DigestView(r.checkpoint.root)).c_str());
    // What the replay derived, in a fixed order: two replays of one log print the same bytes.
    if (o.summary) {
      std::printf("\n%s\n%s\n%s", lg::VerdictSummary(*r.payouts).c_str(), lg::ReputationSummary(*r.payouts).c_str(),
                  lg::PayoutSummary(*r.payouts).c_str());
    }
  }
  return OkStatus();
}

Status Balances(const QueryOptions& o) {
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  ASSIGN_OR_RETURN(lg::VerifyReport r, Replay(o, s, false));
  std::map<std::string, std::map<std::string, uint64_t>> earned;
  for (const auto& e : r.payouts->earnings()) earned[e.account][e.reason] += e.micros;
  json accounts = json::array();
  for (const auto& [account, micros] : r.payouts->available()) {
    json j = {{"account", HexEncode(account)}, {"available_micros", micros}, {"earned_micros", earned[account]}};
    accounts.push_back(j);
  }
  if (o.json) {
    std::printf("%s\n", json{{"size", r.checkpoint.size}, {"credited_micros", r.payouts->total_credited()},
                             {"escrow_micros", r.payouts->total_escrow()}, {"settled_micros", r.payouts->total_settled()},
                             {"accounts", accounts}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return OkStatus();
  }
  std::printf("%-18s %18s   %s\n", "ACCOUNT", "AVAILABLE", "EARNED");
  for (const auto& [account, micros] : r.payouts->available()) {
    std::string how;
    for (const auto& [reason, m] : earned[account]) how += (how.empty() ? "" : ", ") + reason + " " + Credits(static_cast<int64_t>(m));
    std::printf("%-18s %18s   %s\n", HexEncode(account.substr(0, 8)).c_str(), Credits(micros).c_str(), how.c_str());
  }
  std::printf("\ncredited %s, in escrow %s, settled %s (as of entry %llu, replayed from the log)\n",
              Credits(static_cast<int64_t>(r.payouts->total_credited())).c_str(),
              Credits(static_cast<int64_t>(r.payouts->total_escrow())).c_str(),
              Credits(static_cast<int64_t>(r.payouts->total_settled())).c_str(),
              static_cast<unsigned long long>(r.checkpoint.size));
  return OkStatus();
}

}  // namespace

std::string Credits(int64_t micros) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%lld.%06lld", micros < 0 ? "-" : "", static_cast<long long>(std::llabs(micros / 1000000)),
                static_cast<long long>(std::llabs(micros % 1000000)));
  return buf;
}

StatusOr<lg::VerifyReport> ReplayLedger(const std::string& target, const std::string& vkey) {
  QueryOptions o;
  o.target = target;
  o.vkey = vkey;
  ASSIGN_OR_RETURN(Source s, OpenSource(o));
  return Replay(o, s, true);
}

void RegisterLedgerQueryCommands(CLI::App* ledger, int* exit_code) {
  auto o = std::make_shared<QueryOptions>();
  auto source = [&](CLI::App* c) {
    c->add_option("--data-dir", o->data_dir, "Ledger data directory");
    c->add_option("--url", o->url, "Ledger read API, http://host:port");
    c->add_option("--vkey", o->vkey, "Verifier key to check against (name+keyid+key); default: the log's own");
    c->add_flag("--json", o->json, "Print JSON");
  };
  CLI::App* cp = ledger->add_subcommand("checkpoint", "Print the latest checkpoint, verified");
  source(cp);
  cp->callback([o, exit_code] { *exit_code = ReportStatus(PrintCheckpoint(*o)); });

  CLI::App* get = ledger->add_subcommand("get", "Print entry N decoded, with its verified inclusion proof");
  source(get);
  get->add_option("index", o->index, "Entry index")->required();
  get->callback([o, exit_code] { *exit_code = ReportStatus(Get(*o, false)); });

  CLI::App* prove = ledger->add_subcommand("prove", "Print the verified inclusion proof of entry N");
  source(prove);
  prove->add_option("index", o->index, "Entry index")->required();
  prove->callback([o, exit_code] { *exit_code = ReportStatus(Get(*o, true)); });

  CLI::App* cons = ledger->add_subcommand("consistency", "Print a consistency proof between sizes A and B");
  source(cons);
  cons->add_option("from", o->from, "Older size A (> 0)")->required();
  cons->add_option("to", o->to, "Newer size B (default: the latest)");
  cons->add_option("--from-checkpoint", o->from_checkpoint, "A signed checkpoint saved at size A, to verify against");
  cons->callback([o, exit_code] { *exit_code = ReportStatus(Consistency(*o)); });

  CLI::App* verify = ledger->add_subcommand("verify", "Replay the whole log: every hash, signature and balance");
  verify->add_option("target", o->target, "Data directory or http://host:port")->required();
  verify->add_option("--vkey", o->vkey, "Verifier key to check against; default: the log's own");
  verify->add_flag("--json", o->json, "Print JSON");
  verify->add_flag("--summary", o->summary,
                   "Also print what the replay derived: every verdict, every worker's reputation and every account's payouts "
                   "(in a fixed order: two replays of one log print the same bytes)");
  verify->callback([o, exit_code] { *exit_code = ReportStatus(Verify(*o)); });

  CLI::App* balances = ledger->add_subcommand("balances", "Balances of every account, replayed from the log");
  source(balances);
  balances->callback([o, exit_code] { *exit_code = ReportStatus(Balances(*o)); });
}

}  // namespace cairn::cli
