// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, the
// envelope of cairn's checkpoints.
//
//   note      = text "\n" 1*signature-line     ; text ends with "\n"
//   signature-line = "— " name " " base64(key-id[4] || signature[64]) "\n"
//   key-id    = SHA-256(name || "\n" || 0x01 || public-key)[0:4]
//   vkey      = name "+" hex(key-id) "+" base64(0x01 || public-key)
// The signature is Ed25519 over the text (including its final newline).
// Thread safety: values and pure functions.
#ifndef CAIRN_LEDGER_NOTE_H_
#define CAIRN_LEDGER_NOTE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/crypto/ed25519.h"

namespace cairn::ledger {

inline constexpr uint8_t kNoteAlgEd25519 = 0x01;

struct NoteVerifier {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;  // 32 bytes

  // Parses "name+hex8+base64(0x01||key)"; InvalidArgument naming the part.
  static StatusOr<NoteVerifier> Parse(const std::string& vkey);
  static StatusOr<NoteVerifier> For(const std::string& name, const Ed25519PublicKey& key);
  std::string ToString() const;
};

uint32_t NoteKeyId(const std::string& name, const std::string& public_key);

// `text` must end in "\n" and contain no blank line (the spec's rules). Returns
// text + "\n" + the signature line.
StatusOr<std::string> SignNote(const std::string& text, const std::string& name, const Ed25519PrivateKey& key);

struct VerifiedNote {
  std::string text;                      // without the signature block
  std::vector<std::string> verified_by;  // names of verifiers whose signature held
};

// Splits `note`, checks its shape, and verifies every signature line whose
// name and key id match one of `verifiers` (others are ignored, as the spec
// says). Unauthenticated if no known key signed it or a known key's
// signature fails; InvalidArgument for a malformed note.
StatusOr<VerifiedNote> VerifyNote(const std::string& note, const std::vector<NoteVerifier>& verifiers);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_NOTE_H_
