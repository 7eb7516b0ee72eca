// Identity key files: where an actor's Ed25519 seed lives on disk.
//
// Format (version 1), exactly three lines of ASCII, each ending in "\n":
//   cairn-identity-key v1
//   ed25519-seed: <base64 of the 32-byte seed>
//   ed25519-public: <base64 of the 32-byte public key>
// The public key is redundant and checked on load, so a corrupted or edited
// file is refused rather than silently yielding another identity. Files are
// created with mode 0600 (written to a temporary file, fsynced, renamed) and,
// like OpenSSH, a key readable by group or others is refused.
// See docs/identity.md.
// Thread safety: functions touch only the files named; no shared state.
#ifndef CAIRN_RUNTIME_CRYPTO_KEY_FILE_H_
#define CAIRN_RUNTIME_CRYPTO_KEY_FILE_H_

#include <string>

#include "runtime/crypto/ed25519.h"

namespace cairn {

inline constexpr char kKeyFileMagic[] = "cairn-identity-key v1";

// $CAIRN_HOME if set, else $HOME/.cairn. Never empty ("." as a last resort).
std::string CairnHome();
// CairnHome() + "/identity.key".
std::string DefaultKeyPath();

// Writes `key` to `path` (creating parent directories with mode 0700).
// AlreadyExists if the file exists and `overwrite` is false.
Status SaveKeyFile(const Ed25519PrivateKey& key, const std::string& path, bool overwrite);

// Reads a key file. NotFound if absent; PermissionDenied if group/other can
// read it; DataLoss if the magic line, a field, or the public key check fails
// (the message names which).
StatusOr<Ed25519PrivateKey> LoadKeyFile(const std::string& path);

// Serialises to / parses from the text format above (no file system).
std::string FormatKeyFile(const Ed25519PrivateKey& key);
StatusOr<Ed25519PrivateKey> ParseKeyFile(const std::string& text);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_KEY_FILE_H_
