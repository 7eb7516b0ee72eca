// API keys for the inference gateway: `cairn keys api new` asks the
// coordinator (a request signed by the account) for a key; the key is shown
// once and only its SHA-256 is kept, in the coordinator's state store
// (coordinator/state_store.h). Each request's `Authorization: Bearer KEY` names the account
// charged for it. Keys look like "cairn-sk-" + 48 hex digits.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_API_KEYS_H_
#define CAIRN_COORDINATOR_API_KEYS_H_

#include <map>
#include <memory>
#include <string>

#include "coordinator/state_store.h"
#include "runtime/base/clock.h"
#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"

namespace cairn::coordinator {

struct ApiKeyRecord {
  std::string account;  // raw 32-byte Ed25519 key
  std::string name;
  int64_t created_unix_ms = 0;
};

class ApiKeys {
 public:
  // Loads the keys kept in `store`; `store` and `clock` outlive this.
  static StatusOr<std::unique_ptr<ApiKeys>> Open(StateStore* store, const Clock* clock = Clock::System());
  // A new key for `account`; the key itself is returned once.
  StatusOr<std::string> Create(const std::string& account, const std::string& name);
  // NotFound for an unknown key; InvalidArgument for one not shaped like a key.
  StatusOr<ApiKeyRecord> Lookup(const std::string& key) const;
  size_t size() const;

 private:
  ApiKeys(StateStore* store, const Clock* clock) : store_(store), clock_(clock) {}

  StateStore* const store_;
  const Clock* const clock_;
  mutable Mutex mu_;
  std::map<std::string, ApiKeyRecord> by_hash_ GUARDED_BY(mu_);  // hex SHA-256 of the key
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_API_KEYS_H_
