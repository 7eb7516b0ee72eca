// `cairn ledger ...`: the verbs split in two files, administration of a data
// directory (ledger_admin_command.cc) and queries that work against a data
// directory or a read API URL (ledger_query_command.cc).
#ifndef CAIRN_CLI_LEDGER_COMMANDS_H_
#define CAIRN_CLI_LEDGER_COMMANDS_H_

#include <CLI/CLI.hpp>

namespace cairn::cli {

void RegisterLedgerAdminCommands(CLI::App* ledger, int* exit_code);
void RegisterLedgerQueryCommands(CLI::App* ledger, int* exit_code);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_LEDGER_COMMANDS_H_
