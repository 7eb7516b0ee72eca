#include "coordinator/api_keys.h"

#include <openssl/rand.h>

#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"

namespace cairn::coordinator {
namespace {

constexpr char kPrefix[] = "cairn-sk-";
constexpr size_t kSecretBytes = 24;

std::string HashOf(const std::string& key) { return HexEncode(DigestView(Sha256(key))); }

}  // namespace

StatusOr<std::unique_ptr<ApiKeys>> ApiKeys::Open(StateStore* store, const Clock* clock) {
  std::unique_ptr<ApiKeys> keys(new ApiKeys(store, clock));
  ASSIGN_OR_RETURN(auto stored, store->LoadApiKeys());
  MutexLock l(&keys->mu_);
  for (const StoredApiKey& k : stored) keys->by_hash_[k.hash_hex] = ApiKeyRecord{k.account, k.name, k.created_unix_ms};
  return keys;
}

StatusOr<std::string> ApiKeys::Create(const std::string& account, const std::string& name) {
  if (account.size() != 32) return InvalidArgumentError("an account is a 32-byte Ed25519 public key");
  if (name.size() > 128) return InvalidArgumentError("the key's name is longer than 128 bytes");
  unsigned char secret[kSecretBytes];
  if (RAND_bytes(secret, sizeof(secret)) != 1) return InternalError("no randomness for an API key");
  const std::string key = kPrefix + HexEncode(std::string_view(reinterpret_cast<const char*>(secret), sizeof(secret)));
  const ApiKeyRecord record{account, name, clock_->NowUnixMillis()};
  // Durable before it is shown: a key the user saw is never forgotten.
  RETURN_IF_ERROR(store_->PutApiKey(StoredApiKey{HashOf(key), account, name, record.created_unix_ms}));
  MutexLock l(&mu_);
  by_hash_[HashOf(key)] = record;
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

}  // namespace cairn::coordinator
