// SqliteStore: the durable LedgerStore, one SQLite file.
//
// The file is in WAL mode with synchronous=FULL, so a committed batch is on
// disk when Append returns; each batch is one transaction, hence one fsync
// for all its entries (group commit happens above, in the Log). The file is
// marked as cairn's (PRAGMA application_id 0x6361726e "carn") with schema
// version PRAGMA user_version = 1; opening any other SQLite file is refused.
// Tables (docs/ledger.md): entries(idx, data), tiles(level, idx, hashes),
// checkpoints(size, note), settings(name, value).
// Thread safety: one connection behind a mutex; any thread may call.
#ifndef CAIRN_LEDGER_SQLITE_STORE_H_
#define CAIRN_LEDGER_SQLITE_STORE_H_

#include <memory>

#include "ledger/store.h"
#include "runtime/base/mutex.h"

struct sqlite3;

namespace cairn::ledger {

inline constexpr int kSqliteApplicationId = 0x6361726e;  // "carn"
inline constexpr int kSqliteSchemaVersion = 1;

class SqliteStore final : public LedgerStore {
 public:
  // Opens or creates the database at `path`. FailedPrecondition if the file
  // is not a cairn ledger or has an unknown schema version.
  static StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  Status Append(const LedgerBatch& batch) override;
  StatusOr<uint64_t> Size() const override;
  StatusOr<std::string> Entry(uint64_t index) const override;
  StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) const override;
  StatusOr<std::string> Tile(const TileId& id) const override;
  StatusOr<std::vector<std::pair<TileId, std::string>>> AllTiles() const override;
  StatusOr<std::string> LatestCheckpoint() const override;
  StatusOr<std::string> GetSetting(const std::string& name) const override;
  Status PutSetting(const std::string& name, const std::string& value) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql) const EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Status AppendLocked(const LedgerBatch& batch) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  sqlite3* const db_ GUARDED_BY(mu_);  // the connection (opened without SQLite's own mutex)
  uint64_t size_ GUARDED_BY(mu_) = 0;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_SQLITE_STORE_H_
