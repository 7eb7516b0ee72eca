#include "ledger/data_dir.h"

#include <sys/stat.h>

#include "ledger/sqlite_store.h"
#include "runtime/crypto/key_file.h"

namespace cairn::ledger {
namespace {
bool Exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}
}  // namespace

Status InitDataDir(const std::string& dir, const std::string& origin) {
  if (Exists(dir + "/ledger.db") || Exists(dir + "/log.key")) {
    return AlreadyExistsError(dir + " already holds a ledger");
  }
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  std::string name = origin.empty() ? "cairn.local/" + key.public_key().KeyId().substr(0, 8) : origin;
  RETURN_IF_ERROR(NoteVerifier::For(name, key.public_key()).status());  // validates the name
  RETURN_IF_ERROR(SaveKeyFile(key, dir + "/log.key", /*overwrite=*/false));
  ASSIGN_OR_RETURN(auto store, SqliteStore::Open(dir + "/ledger.db"));
  RETURN_IF_ERROR(store->PutSetting("origin", name));
  LogOptions options;
  options.origin = name;
  ASSIGN_OR_RETURN(auto log, Log::Open(std::move(store), key, options));  // signs the empty checkpoint
  return OkStatus();
}

StatusOr<std::unique_ptr<Log>> OpenDataDir(const std::string& dir, LogOptions options) {
  if (!Exists(dir + "/ledger.db")) {
    return NotFoundError("no ledger in " + dir + " (create one with `cairn ledger init --data-dir " + dir + "`)");
  }
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, LoadKeyFile(dir + "/log.key"));
  ASSIGN_OR_RETURN(auto store, SqliteStore::Open(dir + "/ledger.db"));
  ASSIGN_OR_RETURN(options.origin, store->GetSetting("origin"));
  return Log::Open(std::move(store), std::move(key), std::move(options));
}

}  // namespace cairn::ledger
