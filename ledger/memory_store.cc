#include "ledger/memory_store.h"

namespace cairn::ledger {

Status MemoryStore::Append(const LedgerBatch& batch) {
  MutexLock lock(&mu_);
  if (batch.first_index != entries_.size()) {
    return FailedPreconditionError("batch starts at " + std::to_string(batch.first_index) + " but the log has " +
                                   std::to_string(entries_.size()) + " entries");
  }
  entries_.insert(entries_.end(), batch.entries.begin(), batch.entries.end());
  for (const auto& [id, bytes] : batch.tiles) tiles_[{id.level, id.index}] = bytes;
  if (!batch.checkpoint.empty()) checkpoint_ = batch.checkpoint;
  return OkStatus();
}

StatusOr<uint64_t> MemoryStore::Size() const {
  MutexLock lock(&mu_);
  return static_cast<uint64_t>(entries_.size());
}

StatusOr<std::string> MemoryStore::Entry(uint64_t index) const {
  MutexLock lock(&mu_);
  if (index >= entries_.size()) {
    return OutOfRangeError("entry " + std::to_string(index) + " is past the end of the log (" +
                           std::to_string(entries_.size()) + ")");
  }
  return entries_[index];
}

StatusOr<std::vector<std::string>> MemoryStore::Entries(uint64_t first, uint64_t count) const {
  MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (uint64_t i = first; i < entries_.size() && i - first < count; ++i) out.push_back(entries_[i]);
  return out;
}

StatusOr<std::string> MemoryStore::Tile(const TileId& id) const {
  MutexLock lock(&mu_);
  auto it = tiles_.find({id.level, id.index});
  if (it == tiles_.end()) return NotFoundError("no tile " + std::to_string(id.level) + "/" + std::to_string(id.index));
  return it->second;
}

StatusOr<std::vector<std::pair<TileId, std::string>>> MemoryStore::AllTiles() const {
  MutexLock lock(&mu_);
  std::vector<std::pair<TileId, std::string>> out;
  for (const auto& [key, bytes] : tiles_) out.push_back({TileId{key.first, key.second}, bytes});
  return out;
}

StatusOr<std::string> MemoryStore::LatestCheckpoint() const {
  MutexLock lock(&mu_);
  if (checkpoint_.empty()) return NotFoundError("the log has no checkpoint yet");
  return checkpoint_;
}

StatusOr<std::string> MemoryStore::GetSetting(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = settings_.find(name);
  if (it == settings_.end()) return NotFoundError("setting '" + name + "' is not set");
  return it->second;
}

Status MemoryStore::PutSetting(const std::string& name, const std::string& value) {
  MutexLock lock(&mu_);
  settings_[name] = value;
  return OkStatus();
}

}  // namespace cairn::ledger
