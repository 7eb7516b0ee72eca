#include "ledger/checkpoint.h"

#include <cstdlib>

#include "runtime/base/encoding.h"

namespace cairn::ledger {

std::string Checkpoint::Body() const {
  return origin + "\n" + std::to_string(size) + "\n" + Base64Encode(DigestView(root)) + "\n";
}

StatusOr<Checkpoint> Checkpoint::ParseBody(const std::string& text) {
  std::string lines[3];
  size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return InvalidArgumentError("checkpoint body has fewer than 3 lines");
    lines[i] = text.substr(start, nl - start);
    start = nl + 1;
  }
  Checkpoint c;
  c.origin = lines[0];
  if (c.origin.empty()) return InvalidArgumentError("checkpoint origin is empty");
  if (lines[1].empty() || lines[1].size() > 20 || (lines[1].size() > 1 && lines[1][0] == '0') ||
      lines[1].find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError("checkpoint size '" + lines[1] + "' is not a canonical decimal");
  }
  c.size = std::strtoull(lines[1].c_str(), nullptr, 10);
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != 32) return InvalidArgumentError("checkpoint root is not base64 of 32 bytes");
  ASSIGN_OR_RETURN(c.root, HashFromBytes(*root));
  return c;
}

StatusOr<std::string> SignCheckpoint(const Checkpoint& c, const Ed25519PrivateKey& key) {
  return SignNote(c.Body(), c.origin, key);
}

StatusOr<Checkpoint> OpenCheckpoint(const std::string& note, const NoteVerifier& log_key) {
  ASSIGN_OR_RETURN(VerifiedNote v, VerifyNote(note, {log_key}));
  ASSIGN_OR_RETURN(Checkpoint c, Checkpoint::ParseBody(v.text));
  if (c.origin != log_key.name) {
    return UnauthenticatedError("checkpoint origin '" + c.origin + "' is not the log's name '" + log_key.name + "'");
  }
  return c;
}

}  // namespace cairn::ledger
