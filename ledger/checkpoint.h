// Checkpoints in the C2SP tlog-checkpoint format (https://c2sp.org/tlog-checkpoint):
//   <origin>\n<tree size, decimal>\n<base64 root hash>\n
// signed as a C2SP signed note (ledger/note.h) by the log's Ed25519 key under
// the origin as key name.
// Thread safety: values and pure functions.
#ifndef CAIRN_LEDGER_CHECKPOINT_H_
#define CAIRN_LEDGER_CHECKPOINT_H_

#include <string>

#include "ledger/merkle.h"
#include "ledger/note.h"

namespace cairn::ledger {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};

  std::string Body() const;
  // Parses a checkpoint body (extension lines after the root are allowed and
  // ignored, as the spec says).
  static StatusOr<Checkpoint> ParseBody(const std::string& text);
};

StatusOr<std::string> SignCheckpoint(const Checkpoint& c, const Ed25519PrivateKey& key);
// Verifies the note under `log_key` and parses it; the origin must equal the
// verifier's name.
StatusOr<Checkpoint> OpenCheckpoint(const std::string& note, const NoteVerifier& log_key);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_CHECKPOINT_H_
