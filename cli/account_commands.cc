// cairn accounts create|credit|show, cairn keys api new, cairn payouts:
// credits, API keys and who earned what. Account operations are HTTP
// requests to the coordinator signed with $CAIRN_HOME/identity.key
// (runtime/crypto/request_signature.h); payouts are replayed from the
// verified ledger itself, so they need no trust in the coordinator.
#include <cmath>
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include "coordinator/http_client.h"
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/coordinator_client.h"
#include "cli/ledger_commands.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/key_file.h"
#include "runtime/crypto/request_signature.h"
#include "runtime/base/clock.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

struct AccountsCmd {
  CoordinatorAddress coordinator;
  std::string account, memo, name, vkey, url, key_file;
  double amount = 0;
  bool json = false;
};


StatusOr<json> Call(const CoordinatorAddress& addr, const std::string& method, const std::string& path, const std::string& body,
                    const Ed25519PrivateKey* signer) {
  auto [host, port] = CoordinatorHttp(addr);
  return coordinator::CoordinatorHttpClient(host, port).Call(method, path, body, signer);
}

StatusOr<std::string> AccountArg(const std::string& given) {
  if (!given.empty()) {
    return DecodeAccount(given);
  }
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());
  return me.public_key().bytes();
}

Status Show(const AccountsCmd& o) {
  ASSIGN_OR_RETURN(std::string account, AccountArg(o.account));
  ASSIGN_OR_RETURN(json j, Call(o.coordinator, "GET", "/accounts/" + HexEncode(account), "", nullptr));
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return OkStatus();
  }
  std::printf("account   %s\navailable %s credits\n", HexEncode(account).c_str(), Credits(j["available_micros"].get<int64_t>()).c_str());
  if (j.value("escrow_micros", int64_t{0}) > 0) {
    std::printf("escrow    %s credits (held for your running jobs' budgets)\n", Credits(j["escrow_micros"].get<int64_t>()).c_str());
  }
  for (const auto& [reason, micros] : j["earned_micros"].items()) {
    std::string from;
    if (j.contains("entries") && j["entries"].contains(reason)) {
      for (const auto& i : j["entries"][reason]) from += (from.empty() ? "#" : ", #") + std::to_string(i.get<uint64_t>());
    }
    std::printf("%-9s %s credits (%s)%s\n", reason == "refund" ? "refunded" : "earned", Credits(micros.get<int64_t>()).c_str(),
                reason.c_str(), from.empty() ? "" : ("  from ledger entries " + from).c_str());
  }
  return OkStatus();
}

Status Create(const AccountsCmd& o) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());  // the account is the identity key
  std::printf("%s\n", o.json ? json{{"account", HexEncode(me.public_key().bytes())}}.dump().c_str()
                             : ("account " + HexEncode(me.public_key().bytes()) +
                                "\n(its key is $CAIRN_HOME/identity.key; the coordinator's operator credits it with"
                                " `cairn accounts credit ACCOUNT AMOUNT`)")
                                   .c_str());
  return OkStatus();
}

Status Credit(const AccountsCmd& o) {
  if (!(o.amount > 0) || o.amount > 1e12) return InvalidArgumentError("the amount must be a positive number of credits");
  ASSIGN_OR_RETURN(std::string account, AccountArg(o.account));
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, o.key_file.empty() ? LoadOrCreateIdentity() : LoadKeyFile(o.key_file));
  const uint64_t micros = static_cast<uint64_t>(std::llround(o.amount * 1e6));
  json body = {{"account", HexEncode(account)}, {"amount_micros", micros}, {"memo", o.memo}};
  ASSIGN_OR_RETURN(json j, Call(o.coordinator, "POST", "/accounts/credit", body.dump(), &me));
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("credited %s credits to %s (ledger entry %llu); available %s\n", Credits(static_cast<int64_t>(micros)).c_str(),
                HexEncode(account).substr(0, 16).c_str(), static_cast<unsigned long long>(j["entry"].get<uint64_t>()),
                Credits(j["available_micros"].get<int64_t>()).c_str());
  }
  return OkStatus();
}

Status NewApiKey(const AccountsCmd& o) {
  ASSIGN_OR_RETURN(Ed25519PrivateKey me, LoadOrCreateIdentity());
  ASSIGN_OR_RETURN(json j, Call(o.coordinator, "POST", "/api-keys", json{{"name", o.name}}.dump(), &me));
  if (o.json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("%s\n", j["key"].get<std::string>().c_str());
    std::fprintf(stderr, "API key for account %s: shown once, keep it secret. Use it as Authorization: Bearer KEY\n",
                 j["account"].get<std::string>().substr(0, 16).c_str());
  }
  return OkStatus();
}

Status Payouts(const AccountsCmd& o) {
  std::string target = o.url;
  if (target.empty()) {
    auto [host, port] = CoordinatorHttp(o.coordinator);
    target = "http://" + host + ":" + std::to_string(port);
  }
  ASSIGN_OR_RETURN(ledger::VerifyReport r, ReplayLedger(target, o.vkey));
  std::string prefix = o.account;
  for (char& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct Row {
    std::map<std::string, uint64_t> by_reason;
    std::map<std::string, std::vector<uint64_t>> entries_by_reason;
    std::vector<uint64_t> entries;
    uint64_t total = 0;
  };
  std::map<std::string, Row> rows;
  for (const auto& e : r.payouts->earnings()) {
    const std::string hex = HexEncode(e.account);
    if (!prefix.empty() && hex.rfind(prefix, 0) != 0) continue;
    Row& row = rows[hex];
    row.by_reason[e.reason] += e.micros;
    row.total += e.micros;
    auto& by = row.entries_by_reason[e.reason];
    if (by.empty() || by.back() != e.entry_index) by.push_back(e.entry_index);
    if (row.entries.empty() || row.entries.back() != e.entry_index) row.entries.push_back(e.entry_index);
  }
  if (o.json) {
    json out = json::array();
    for (const auto& [hex, row] : rows) {
      out.push_back({{"account", hex}, {"earned_micros", row.total}, {"by_reason", row.by_reason}, {"entries", row.entries},
                     {"by_reason_entries", row.entries_by_reason},
                     {"available_micros", r.payouts->Available(*HexDecode(hex))},
                     {"escrow_micros", r.payouts->EscrowOf(*HexDecode(hex))},
                     {"held_micros", r.payouts->HeldFor(*HexDecode(hex))}});
    }
    std::printf("%s\n", json{{"ledger_size", r.checkpoint.size}, {"payouts", out}}.dump(2).c_str());
    return OkStatus();
  }
  if (rows.empty()) {
    std::printf("no payouts%s in the %llu-entry ledger\n", prefix.empty() ? "" : (" to " + prefix + "...").c_str(),
                static_cast<unsigned long long>(r.checkpoint.size));
    return OkStatus();
  }
  std::printf("%-18s %16s   %-44s %s\n", "ACCOUNT", "EARNED", "FOR", "FROM LEDGER ENTRIES");
  for (const auto& [hex, row] : rows) {
    std::string why, from;
    for (const auto& [reason, micros] : row.by_reason) why += (why.empty() ? "" : ", ") + reason + " " + Credits(static_cast<int64_t>(micros));
    for (size_t i = 0; i < row.entries.size(); ++i) {
      if (i == 8) {
        from += ", ... (" + std::to_string(row.entries.size()) + " entries)";
        break;
      }
      from += (i ? ", #" : "#") + std::to_string(row.entries[i]);
    }
    const uint64_t held = r.payouts->HeldFor(*HexDecode(hex));
    if (held > 0) why += (why.empty() ? "" : ", ") + std::string("held ") + Credits(static_cast<int64_t>(held));
    std::printf("%-18s %16s   %-44s %s\n", hex.substr(0, 16).c_str(), Credits(static_cast<int64_t>(row.total)).c_str(),
                why.c_str(), from.c_str());
  }
  std::printf("\nreplayed and verified %llu ledger entries; credited %s, settled %s, held in escrow %s, "
              "earned but held until replays clear them %s\n",
              static_cast<unsigned long long>(r.checkpoint.size), Credits(static_cast<int64_t>(r.payouts->total_credited())).c_str(),
              Credits(static_cast<int64_t>(r.payouts->total_settled())).c_str(),
              Credits(static_cast<int64_t>(r.payouts->total_escrow())).c_str(),
              Credits(static_cast<int64_t>(r.payouts->total_held())).c_str());
  return OkStatus();
}

}  // namespace

void RegisterAccountCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<AccountsCmd>();
  CLI::App* accounts = app.add_subcommand("accounts", "Credits: create an account, credit it (operator), show balances");
  accounts->require_subcommand(1);
  CLI::App* create = accounts->add_subcommand("create", "Create your account (your identity key) and print its id");
  create->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(create, &o->coordinator);  // accepted for symmetry; create is local
  create->callback([o, exit_code] { *exit_code = ReportStatus(Create(*o)); });
  CLI::App* credit = accounts->add_subcommand("credit", "Credit an account (the coordinator's operator only; recorded in the ledger)");
  credit->add_option("account", o->account, "Account id (64 hex digits)")->required();
  credit->add_option("amount", o->amount, "Credits to add")->required();
  credit->add_option("--memo", o->memo, "Why (recorded in the ledger)");
  credit->add_option("--key", o->key_file, "Sign with this key file: the operator's is the coordinator's DATA_DIR/log.key");
  credit->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(credit, &o->coordinator);
  credit->callback([o, exit_code] { *exit_code = ReportStatus(Credit(*o)); });
  CLI::App* show = accounts->add_subcommand("show", "Show an account's credits and earnings (default: yours)");
  show->add_option("account", o->account, "Account id (64 hex digits)");
  show->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(show, &o->coordinator);
  show->callback([o, exit_code] { *exit_code = ReportStatus(Show(*o)); });

  CLI::App* payouts = app.add_subcommand("payouts", "Who earned what, from which ledger entries (replayed from the verified ledger)");
  payouts->add_option("--account", o->account, "Only accounts starting with this hex prefix");
  payouts->add_option("--url", o->url, "The ledger's read API (default: the coordinator's HTTP port)");
  payouts->add_option("--vkey", o->vkey, "Verifier key to check the ledger against (default: the log's own)");
  payouts->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(payouts, &o->coordinator);
  payouts->callback([o, exit_code] { *exit_code = ReportStatus(Payouts(*o)); });
}

void RegisterApiKeyCommand(CLI::App* keys, int* exit_code) {
  auto o = std::make_shared<AccountsCmd>();
  CLI::App* api = keys->add_subcommand("api", "API keys for the inference endpoints");
  api->require_subcommand(1);
  CLI::App* create = api->add_subcommand("new", "Ask the coordinator for an API key charged to your account (shown once)");
  create->add_option("--name", o->name, "A label for the key");
  create->add_flag("--json", o->json, "Print JSON");
  AddCoordinatorOptions(create, &o->coordinator);
  create->callback([o, exit_code] { *exit_code = ReportStatus(NewApiKey(*o)); });
}

}  // namespace cairn::cli
