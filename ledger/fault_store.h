// FaultInjectingStore: a LedgerStore that wraps another and fails on
// command, for testing what the log and the coordinator do when storage
// breaks (cf. LevelDB's fault-injection Env). Until a fault is armed it
// forwards everything and passes the conformance suite.
//
// Faults, each for one Append (the Nth from now, 1-based) or for every
// Append from then on:
//   kWrite  the batch is not written; Append returns the error (the store
//           is unchanged, as the LedgerStore contract requires).
//   kSync   the batch IS written, then Append reports a failure, as when
//           fsync fails after the write: the caller cannot know whether it
//           is durable, and must not treat it as acknowledged.
// Thread safety: as the wrapped store; arming is thread-safe.
#ifndef CAIRN_LEDGER_FAULT_STORE_H_
#define CAIRN_LEDGER_FAULT_STORE_H_

#include <atomic>
#include <memory>

#include "ledger/store.h"

namespace cairn::ledger {

enum class StoreFault { kWrite, kSync };

class FaultInjectingStore final : public LedgerStore {
 public:
  explicit FaultInjectingStore(std::unique_ptr<LedgerStore> inner) : inner_(std::move(inner)) {}

  // The `n`th Append from now (1 = the next) fails with `fault`; with
  // `sticky`, every Append after it fails too.
  void FailAppend(uint64_t n, StoreFault fault, bool sticky = false);
  // Appends seen and failed so far.
  uint64_t appends() const { return appends_.load(); }
  uint64_t failures() const { return failures_.load(); }

  Status Append(const LedgerBatch& batch) override;
  StatusOr<uint64_t> Size() const override { return inner_->Size(); }
  StatusOr<std::string> Entry(uint64_t index) const override { return inner_->Entry(index); }
  StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) const override {
    return inner_->Entries(first, count);
  }
  StatusOr<std::string> Tile(const TileId& id) const override { return inner_->Tile(id); }
  StatusOr<std::vector<std::pair<TileId, std::string>>> AllTiles() const override { return inner_->AllTiles(); }
  StatusOr<std::string> LatestCheckpoint() const override { return inner_->LatestCheckpoint(); }
  StatusOr<std::string> GetSetting(const std::string& name) const override { return inner_->GetSetting(name); }
  Status PutSetting(const std::string& name, const std::string& value) override { return inner_->PutSetting(name, value); }

 private:
  std::unique_ptr<LedgerStore> inner_;
  std::atomic<uint64_t> appends_{0}, failures_{0};
  std::atomic<uint64_t> fail_at_{0};  // absolute append count that fails; 0: none
  std::atomic<bool> sticky_{false};
  std::atomic<int> fault_{0};
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_FAULT_STORE_H_
