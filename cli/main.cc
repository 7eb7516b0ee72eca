// cairn: one binary, one subcommand per user-facing verb.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "runtime/base/log.h"

int main(int argc, char** argv) {
  cairn::InitLoggingFromEnv("info");
  CLI::App app{"cairn: train and serve models on GPUs owned by many people, with a verifiable ledger of who did what.",
               "cairn"};
  app.require_subcommand(1);
  app.set_version_flag("--version", cairn::cli::VersionText());
  app.footer("Environment: CAIRN_HOME (default ~/.cairn), CAIRN_LOG_LEVEL (trace..off).\n"
             "Run `cairn VERB --help` for a verb's options.");
  int exit_code = 0;
  cairn::cli::RegisterKeysCommand(app, &exit_code);
  cairn::cli::RegisterDemoCommand(app, &exit_code);
  cairn::cli::RegisterCoordinatorCommand(app, &exit_code);
  cairn::cli::RegisterWorkerCommand(app, &exit_code);
  cairn::cli::RegisterSubmitCommands(app, &exit_code);
  cairn::cli::RegisterJobCommands(app, &exit_code);
  cairn::cli::RegisterDatasetCommands(app, &exit_code);
  cairn::cli::RegisterModelCommands(app, &exit_code);
  cairn::cli::RegisterAccountCommands(app, &exit_code);
  cairn::cli::RegisterLedgerCommand(app, &exit_code);
  // CLI11 would only say "A subcommand is required"; name the unknown verb.
  if (argc > 1 && argv[1][0] != '-') {
    try {
      (void)app.get_subcommand(argv[1]);
    } catch (const CLI::OptionNotFound&) {
      std::fprintf(stderr, "cairn: error: unknown command '%s' (run `cairn --help` for the list)\n", argv[1]);
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
