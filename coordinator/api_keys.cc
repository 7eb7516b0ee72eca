#include "coordinator/api_keys.h"

#include <chrono>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include "runtime/base/encoding.h"
#include "runtime/base/files.h"
#include "runtime/crypto/sha256.h"

namespace cairn::coordinator {
namespace {

constexpr char kPrefix[] = "cairn-sk-";
constexpr size_t kSecretBytes = 24;

std::string HashOf(const std::string& key) { return HexEncode(DigestView(Sha256(key))); }

}  // namespace

StatusOr<std::unique_ptr<ApiKeys>> ApiKeys::Open(const std::string& path) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(path));
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return keys;
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_array()) return DataLossError(path + " is not a JSON list of API keys");
  MutexLock l(&keys->mu_);
  for (const auto& e : j) {
    auto account = HexDecode(e.value("account", ""));
    if (!account.ok() || account->size() != 32 || e.value("hash", "").size() != 64) {
      return DataLossError(path + " holds a malformed API key record");
    }
    keys->by_hash_[e["hash"]] = ApiKeyRecord{*account, e.value("name", ""), e.value("created_unix_ms", int64_t{0})};
  }
  return keys;
}

StatusOr<std::string> ApiKeys::Create(const std::string& account, const std::string& name) {
  if (account.size() != 32) return InvalidArgumentError("an account is a 32-byte Ed25519 public key");
  if (name.size() > 128) return InvalidArgumentError("the key's name is longer than 128 bytes");
  unsigned char secret[kSecretBytes];
  if (RAND_bytes(secret, sizeof(secret)) != 1) return InternalError("no randomness for an API key");
  const std::string key = kPrefix + HexEncode(std::string_view(reinterpret_cast<const char*>(secret), sizeof(secret)));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  MutexLock l(&mu_);
  by_hash_[HashOf(key)] = ApiKeyRecord{account, name, now};
  Status s = SaveLocked();
  if (!s.ok()) {
    by_hash_.erase(HashOf(key));
    return s;
  }
  return key;
}

StatusOr<ApiKeyRecord> ApiKeys::Lookup(const std::string& key) const {
  if (key.rfind(kPrefix, 0) != 0 || key.size() != sizeof(kPrefix) - 1 + 2 * kSecretBytes) {
    return InvalidArgumentError("not a cairn API key (they start with cairn-sk-)");
  }
  MutexLock l(&mu_);
  auto it = by_hash_.find(HashOf(key));
  if (it == by_hash_.end()) return NotFoundError("unknown API key");
  return it->second;
}

size_t ApiKeys::size() const {
  MutexLock l(&mu_);
  return by_hash_.size();
}

Status ApiKeys::SaveLocked() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [hash, r] : by_hash_) {
    j.push_back({{"hash", hash}, {"account", HexEncode(r.account)}, {"name", r.name}, {"created_unix_ms", r.created_unix_ms}});
  }
  return WriteFileAtomically(path_, j.dump(1) + "\n");
}

}  // namespace cairn::coordinator
