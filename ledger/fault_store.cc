#include "ledger/fault_store.h"

namespace cairn::ledger {

void FaultInjectingStore::FailAppend(uint64_t n, StoreFault fault, bool sticky) {
  fault_.store(static_cast<int>(fault));
  sticky_.store(sticky);
  fail_at_.store(appends_.load() + std::max<uint64_t>(n, 1));
}

Status FaultInjectingStore::Append(const LedgerBatch& batch) {
  const uint64_t n = appends_.fetch_add(1) + 1;
  const uint64_t at = fail_at_.load();
  const bool fail = at != 0 && (n == at || (sticky_.load() && n > at));
  if (!fail) return inner_->Append(batch);
  failures_.fetch_add(1);
  if (static_cast<StoreFault>(fault_.load()) == StoreFault::kWrite) {
    return ResourceExhaustedError("injected fault: write " + std::to_string(n) + " failed (disk full)");
  }
  Status written = inner_->Append(batch);
  if (!written.ok()) return written;
  return DataLossError("injected fault: sync of write " + std::to_string(n) + " failed after the write");
}

}  // namespace cairn::ledger
