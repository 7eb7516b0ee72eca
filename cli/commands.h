// The cairn command line: each verb registers itself on the root CLI11 app.
// A verb's callback stores its exit status in *exit_code (0 success, 1 the
// operation failed, 2 bad usage) and prints errors as "cairn: error: ...".
// Thread safety: main() only.
#ifndef CAIRN_CLI_COMMANDS_H_
#define CAIRN_CLI_COMMANDS_H_

#include <string>

#include <CLI/CLI.hpp>

#include "runtime/base/status.h"

namespace cairn::cli {

void RegisterKeysCommand(CLI::App& app, int* exit_code);
void RegisterDemoCommand(CLI::App& app, int* exit_code);
void RegisterLedgerCommand(CLI::App& app, int* exit_code);
void RegisterCoordinatorCommand(CLI::App& app, int* exit_code);
void RegisterWorkerCommand(CLI::App& app, int* exit_code);
void RegisterJobCommands(CLI::App& app, int* exit_code);
void RegisterSubmitCommands(CLI::App& app, int* exit_code);
void RegisterDatasetCommands(CLI::App& app, int* exit_code);
void RegisterModelCommands(CLI::App& app, int* exit_code);
void RegisterAccountCommands(CLI::App& app, int* exit_code);
// `cairn keys api new` (registered under `keys`).
void RegisterApiKeyCommand(CLI::App* keys, int* exit_code);
// The multi-line text printed by `cairn --version`.
std::string VersionText();

// Prints "cairn: error: <message>" to stderr and returns 1 (0 for OK).
int ReportStatus(const Status& status);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_COMMANDS_H_
