// LedgerStore: where the log's entries, hash tiles and checkpoints live.
// Backends: SqliteStore (durable; sqlite_store.h) and MemoryStore (tests and
// benchmarks; memory_store.h). Both pass ledger/store_conformance.cc.
//
// Contract: Append stores a whole batch atomically and durably — when it
// returns OK, every entry, tile and the checkpoint in it survive a crash; on
// error nothing of the batch is visible. Batches are strictly sequential
// (first_index == Size()).
// Thread safety: every method may be called from any thread; Append calls
// are serialised by the caller (the Log) but may overlap reads.
#ifndef CAIRN_LEDGER_STORE_H_
#define CAIRN_LEDGER_STORE_H_

#include <string>
#include <utility>
#include <vector>

#include "ledger/hash_tiles.h"
#include "runtime/base/statusor.h"

namespace cairn::ledger {

struct LedgerBatch {
  uint64_t first_index = 0;
  std::vector<std::string> entries;
  std::vector<std::pair<TileId, std::string>> tiles;  // whole contents of each changed tile
  std::string checkpoint;                             // signed note for first_index + entries.size()
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // FailedPrecondition if batch.first_index != Size(); otherwise see above.
  virtual Status Append(const LedgerBatch& batch) = 0;

  virtual StatusOr<uint64_t> Size() const = 0;
  // OutOfRange past the end.
  virtual StatusOr<std::string> Entry(uint64_t index) const = 0;
  // Up to `count` entries from `first` (fewer at the end of the log).
  virtual StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) const = 0;
  // NotFound if the tile was never written.
  virtual StatusOr<std::string> Tile(const TileId& id) const = 0;
  virtual StatusOr<std::vector<std::pair<TileId, std::string>>> AllTiles() const = 0;
  // The latest signed checkpoint; NotFound for an empty log.
  virtual StatusOr<std::string> LatestCheckpoint() const = 0;

  // Small named settings of the log (origin, ...). NotFound if unset.
  virtual StatusOr<std::string> GetSetting(const std::string& name) const = 0;
  virtual Status PutSetting(const std::string& name, const std::string& value) = 0;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_STORE_H_
