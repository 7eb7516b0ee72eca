// `cairn ledger ...`: the verbs split in two files, administration of a data
// directory (ledger_admin_command.cc) and queries that work against a data
// directory or a read API URL (ledger_query_command.cc).
#ifndef CAIRN_CLI_LEDGER_COMMANDS_H_
#define CAIRN_CLI_LEDGER_COMMANDS_H_

#include <CLI/CLI.hpp>

#include <string>

#include "ledger/verify.h"
#include "runtime/base/statusor.h"

namespace cairn::cli {

void RegisterLedgerAdminCommands(CLI::App* ledger, int* exit_code);
void RegisterLedgerQueryCommands(CLI::App* ledger, int* exit_code);

// Replays and verifies the whole ledger at `target` (a data directory or
// http://host:port) against `vkey` ("": the log's own key, with a warning
// for a URL); the report holds the balances and every payment.
StatusOr<ledger::VerifyReport> ReplayLedger(const std::string& target, const std::string& vkey);
// Micro-credits as "12.000345".
std::string Credits(int64_t micros);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_LEDGER_COMMANDS_H_
