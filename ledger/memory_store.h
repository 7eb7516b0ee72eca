// MemoryStore: the in-memory LedgerStore twin of SqliteStore, for tests and
// benchmarks. "Durable" means "in this process". Passes the conformance suite.
// Thread safety: all methods take one mutex.
#ifndef CAIRN_LEDGER_MEMORY_STORE_H_
#define CAIRN_LEDGER_MEMORY_STORE_H_

#include <map>

#include "ledger/store.h"
#include "runtime/base/mutex.h"

namespace cairn::ledger {

class MemoryStore final : public LedgerStore {
 public:
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
  mutable Mutex mu_;
  std::vector<std::string> entries_ GUARDED_BY(mu_);
  std::map<std::pair<int, uint64_t>, std::string> tiles_ GUARDED_BY(mu_);
  std::string checkpoint_ GUARDED_BY(mu_);
  std::map<std::string, std::string> settings_ GUARDED_BY(mu_);
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_MEMORY_STORE_H_
