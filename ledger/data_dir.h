// A ledger data directory: what `cairn ledger init` creates and the
// coordinator hosts.
//   DIR/ledger.db   the SqliteStore (entries, tiles, checkpoints, settings)
//   DIR/log.key     the log's Ed25519 identity (key file, mode 0600); it
//                   signs checkpoints and is the operator key whose credits,
//                   placements, usage and settlements the payout rules accept
// The origin (checkpoint name) is kept as the store setting "origin".
// Thread safety: functions touch only DIR.
#ifndef CAIRN_LEDGER_DATA_DIR_H_
#define CAIRN_LEDGER_DATA_DIR_H_

#include <memory>
#include <string>

#include "ledger/log.h"

namespace cairn::ledger {

// Creates DIR (if needed), the log key and the store, and signs the empty
// checkpoint. AlreadyExists if DIR already holds a ledger. An empty origin
// picks "cairn.local/<first 8 hex digits of the key id>".
Status InitDataDir(const std::string& dir, const std::string& origin);

// Opens the ledger in DIR for appending and reading. NotFound (with the
// command that fixes it) if DIR holds no ledger.
StatusOr<std::unique_ptr<Log>> OpenDataDir(const std::string& dir, LogOptions options = {});

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_DATA_DIR_H_
