#include "ledger/note.h"

#include <cstdio>

#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"

namespace cairn::ledger {
namespace {

constexpr char kSigPrefix[] = "\xe2\x80\x94 ";  // "— " (U+2014, space)

bool ValidName(const std::string& name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == '+') return false;  // no spaces, controls or plus
  }
  return true;
}

}  // namespace

uint32_t NoteKeyId(const std::string& name, const std::string& public_key) {
  std::string data = name + "\n";
  data += static_cast<char>(kNoteAlgEd25519);
  data += public_key;
  Sha256Digest d = Sha256(data);
  return static_cast<uint32_t>(d[0]) << 24 | static_cast<uint32_t>(d[1]) << 16 | static_cast<uint32_t>(d[2]) << 8 |
         static_cast<uint32_t>(d[3]);
}

StatusOr<NoteVerifier> NoteVerifier::Parse(const std::string& vkey) {
  size_t p1 = vkey.find('+');
  size_t p2 = p1 == std::string::npos ? p1 : vkey.find('+', p1 + 1);
  if (p2 == std::string::npos) return InvalidArgumentError("verifier key must be name+keyid+key");
  NoteVerifier v;
  v.name = vkey.substr(0, p1);
  if (!ValidName(v.name)) return InvalidArgumentError("verifier key has an invalid name");
  std::string id_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  auto id = HexDecode(id_hex);
  if (!id.ok() || id->size() != 4) return InvalidArgumentError("verifier key id must be 8 hex digits");
  for (unsigned char c : *id) v.key_id = v.key_id << 8 | c;
  auto key = Base64Decode(vkey.substr(p2 + 1));
  if (!key.ok()) return InvalidArgumentError("verifier key: " + key.status().message());
  if (key->size() != 33 || static_cast<uint8_t>((*key)[0]) != kNoteAlgEd25519) {
    return InvalidArgumentError("verifier key is not an Ed25519 (0x01) key");
  }
  v.public_key = key->substr(1);
  if (NoteKeyId(v.name, v.public_key) != v.key_id) {
    return InvalidArgumentError("verifier key id does not match its name and key");
  }
  return v;
}

StatusOr<NoteVerifier> NoteVerifier::For(const std::string& name, const Ed25519PublicKey& key) {
  if (!ValidName(name)) return InvalidArgumentError("note signer name '" + name + "' is invalid");
  return NoteVerifier{name, NoteKeyId(name, key.bytes()), key.bytes()};
}

std::string NoteVerifier::ToString() const {
  char id[9];
  std::snprintf(id, sizeof(id), "%08x", key_id);
  return name + "+" + id + "+" + Base64Encode(std::string(1, static_cast<char>(kNoteAlgEd25519)) + public_key);
}

StatusOr<std::string> SignNote(const std::string& text, const std::string& name, const Ed25519PrivateKey& key) {
  if (text.empty() || text.back() != '\n') return InvalidArgumentError("note text must end with a newline");
  if (text.find("\n\n") != std::string::npos) return InvalidArgumentError("note text must not contain a blank line");
  if (!ValidName(name)) return InvalidArgumentError("note signer name '" + name + "' is invalid");
  ASSIGN_OR_RETURN(std::string sig, key.Sign(text));
  uint32_t id = NoteKeyId(name, key.public_key().bytes());
  std::string blob = {static_cast<char>(id >> 24), static_cast<char>(id >> 16), static_cast<char>(id >> 8),
                      static_cast<char>(id)};
  blob += sig;
  return text + "\n" + kSigPrefix + name + " " + Base64Encode(blob) + "\n";
}

StatusOr<VerifiedNote> VerifyNote(const std::string& note, const std::vector<NoteVerifier>& verifiers) {
  if (note.size() > 1 << 20) return InvalidArgumentError("note is larger than 1 MiB");
  size_t split = note.rfind("\n\n");
  if (split == std::string::npos) return InvalidArgumentError("note has no signature block");
  VerifiedNote out;
  out.text = note.substr(0, split + 1);
  std::string sigs = note.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') return InvalidArgumentError("note signatures must end with a newline");
  bool known_bad = false;
  std::string bad_name;
  size_t start = 0;
  while (start < sigs.size()) {
    size_t nl = sigs.find('\n', start);
    std::string line = sigs.substr(start, nl - start);
    start = nl + 1;
    if (line.compare(0, sizeof(kSigPrefix) - 1, kSigPrefix) != 0) {
      return InvalidArgumentError("malformed signature line: '" + line + "'");
    }
    line = line.substr(sizeof(kSigPrefix) - 1);
    size_t space = line.find(' ');
    if (space == std::string::npos) return InvalidArgumentError("signature line has no signature");
    std::string name = line.substr(0, space);
    auto blob = Base64Decode(line.substr(space + 1));
    if (!ValidName(name) || !blob.ok() || blob->size() < 5) {
      return InvalidArgumentError("malformed signature line for '" + name + "'");
    }
    uint32_t id = 0;
    for (int i = 0; i < 4; ++i) id = id << 8 | static_cast<unsigned char>((*blob)[i]);
    for (const NoteVerifier& v : verifiers) {
      if (v.name != name || v.key_id != id) continue;
      if (Ed25519Verify(v.public_key, out.text, blob->substr(4)).ok()) {
        out.verified_by.push_back(name);
      } else {
        known_bad = true;
        bad_name = name;
      }
    }
  }
  if (known_bad) return UnauthenticatedError("signature by '" + bad_name + "' does not verify");
  if (out.verified_by.empty()) return UnauthenticatedError("no signature by a known key");
  return out;
}

}  // namespace cairn::ledger
