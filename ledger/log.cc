#include "ledger/log.h"

#include "runtime/base/log.h"

namespace cairn::ledger {

Log::Log(std::unique_ptr<LedgerStore> store, Ed25519PrivateKey key, LogOptions options, NoteVerifier verifier)
    : store_(std::move(store)), key_(std::move(key)), options_(std::move(options)), verifier_(std::move(verifier)) {}

StatusOr<std::unique_ptr<Log>> Log::Open(std::unique_ptr<LedgerStore> store, Ed25519PrivateKey key,
                                         LogOptions options) {
  ASSIGN_OR_RETURN(NoteVerifier verifier, NoteVerifier::For(options.origin, key.public_key()));
  ASSIGN_OR_RETURN(uint64_t size, store->Size());
  ASSIGN_OR_RETURN(auto tiles, store->AllTiles());
  auto tree = HashTiles::FromTiles(size, tiles);
  if (!tree.ok()) return tree.status().WithContext("loading the Merkle tree");
  std::string note;
  if (size == 0 && store->LatestCheckpoint().status().code() == StatusCode::kNotFound) {
    // A new log starts with a signed checkpoint of the empty tree, so that
    // clients always have one to verify against.
    LedgerBatch empty;
    ASSIGN_OR_RETURN(empty.checkpoint, SignCheckpoint(Checkpoint{options.origin, 0, EmptyRoot()}, key));
    RETURN_IF_ERROR(store->Append(empty));
  }
  {
    ASSIGN_OR_RETURN(note, store->LatestCheckpoint());
    auto cp = OpenCheckpoint(note, verifier);
    if (!cp.ok()) return DataLossError("stored checkpoint does not verify under the log key: " + cp.status().message());
    ASSIGN_OR_RETURN(Hash root, RootAt(*tree, size));
    if (cp->size != size || cp->root != root) {
      return DataLossError("stored checkpoint (size " + std::to_string(cp->size) +
                           ") does not match the stored tree (size " + std::to_string(size) + ")");
    }
  }
  std::unique_ptr<Log> log(new Log(std::move(store), std::move(key), std::move(options), std::move(verifier)));
  {
    MutexLock lock(&log->tree_mu_);
    log->tree_ = std::move(*tree);
    log->size_ = size;
    log->checkpoint_ = note;
  }
  log->committer_ = std::thread([raw = log.get()] { raw->CommitLoop(); });
  return log;
}

Log::~Log() {
  {
    MutexLock lock(&queue_mu_);
    stopping_ = true;
  }
  queue_cv_.SignalAll();
  if (committer_.joinable()) committer_.join();
}

StatusOr<uint64_t> Log::Append(std::string entry) {
  std::vector<std::string> one;
  one.push_back(std::move(entry));
  return AppendAll(std::move(one));
}

StatusOr<uint64_t> Log::AppendAll(std::vector<std::string> entries) {
  auto promise = std::make_shared<std::promise<StatusOr<uint64_t>>>();
  auto result = promise->get_future();
  RETURN_IF_ERROR(AppendAsync(std::move(entries), [promise](StatusOr<uint64_t> r) { promise->set_value(std::move(r)); }));
  return result.get();
}

Status Log::health() const {
  MutexLock lock(&tree_mu_);
  return health_;
}

Status Log::AppendAsync(std::vector<std::string> entries, AppendCallback done) {
  if (entries.empty()) return InvalidArgumentError("no entries to append");
  RETURN_IF_ERROR(health());
  std::vector<EntryHeader> headers;
  for (size_t i = 0; i < entries.size(); ++i) {  // signatures in parallel across callers
    auto header = ValidateEntry(entries[i]);
    if (!header.ok()) {
      MutexLock lock(&tree_mu_);
      ++stats_.refused;
      return entries.size() == 1 ? header.status()
                                 : header.status().WithContext("entry " + std::to_string(i) + " of " + std::to_string(entries.size()));
    }
    headers.push_back(*header);
  }
  MutexLock admit_lock(&admit_mu_);
  for (size_t i = 0; i < entries.size() && options_.admit; ++i) {
    Status s = options_.admit(headers[i], entries[i]);
    if (!s.ok()) {
      MutexLock lock(&tree_mu_);
      ++stats_.refused;
      return entries.size() == 1 ? s : s.WithContext("entry " + std::to_string(i) + " of " + std::to_string(entries.size()));
    }
  }
  auto sub = std::make_unique<Submission>();
  sub->entries = std::move(entries);
  sub->done = std::move(done);
  {
    MutexLock lock(&queue_mu_);
    if (stopping_) return UnavailableError("the log is shutting down");
    queue_.push_back(std::move(sub));
  }
  queue_cv_.Signal();
  return OkStatus();
}

void Log::CommitLoop() {
  for (;;) {
    std::vector<std::unique_ptr<Submission>> batch;
    {
      MutexLock lock(&queue_mu_);
      while (!stopping_ && queue_.empty()) queue_cv_.Wait(&queue_mu_);
      if (queue_.empty()) return;  // stopping, and everything queued is done
      size_t n = 0;
      while (!queue_.empty() && (batch.empty() || n + queue_.front()->entries.size() <= options_.max_batch_entries)) {
        n += queue_.front()->entries.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(std::move(batch));
  }
}

void Log::CommitBatch(std::vector<std::unique_ptr<Submission>> batch) {
  LedgerBatch write;
  Status status = health();
  if (!status.ok()) {  // stopped: what was queued behind the failure is refused
    for (auto& sub : batch) {
      {
        MutexLock lock(&tree_mu_);
        stats_.failed += sub->entries.size();
      }
      sub->done(status);
    }
    return;
  }
  {
    MutexLock lock(&tree_mu_);
    write.first_index = size_;
    for (const auto& sub : batch) {
      for (const std::string& e : sub->entries) {
        tree_.Append(LeafHash(e));
        write.entries.push_back(e);
      }
    }
    uint64_t new_size = tree_.size();
    for (const TileId& id : tree_.TilesChangedSince(size_)) write.tiles.push_back({id, tree_.TileBytes(id)});
    auto root = RootAt(tree_, new_size);
    status = root.status();
    if (status.ok()) {
      auto note = SignCheckpoint(Checkpoint{options_.origin, new_size, *root}, key_);
      status = note.status();
      if (status.ok()) write.checkpoint = std::move(note).value();
    }
    if (!status.ok()) tree_.Truncate(size_);
  }
  // The store write happens outside tree_mu_ so that proofs and reads of the
  // published tree carry on during the fsync.
  if (status.ok()) status = store_->Append(write);
  {
    MutexLock lock(&tree_mu_);
    if (status.ok()) {
      size_ = tree_.size();
      checkpoint_ = write.checkpoint;
      stats_.batches += 1;
      stats_.entries += write.entries.size();
    } else {
      tree_.Truncate(size_);
      stats_.failed += write.entries.size();
      health_ = UnavailableError("the ledger stopped accepting entries after a store failure; restart the coordinator "
                                 "once the store is fixed (" + status.ToString() + ")");
      status = health_;
      CAIRN_LOG_ERROR("ledger: batch of {} entries not stored, the log is stopped: {}", write.entries.size(),
                      status.ToString());
    }
  }
  if (status.ok() && options_.on_commit) {
    for (size_t i = 0; i < write.entries.size(); ++i) options_.on_commit(write.first_index + i, write.entries[i]);
  }
  uint64_t next = write.first_index;
  for (auto& sub : batch) {
    if (status.ok()) {
      sub->done(next);
      next += sub->entries.size();
    } else {
      sub->done(status);
    }
  }
}

uint64_t Log::size() const {
  MutexLock lock(&tree_mu_);
  return size_;
}

std::string Log::checkpoint() const {
  MutexLock lock(&tree_mu_);
  return checkpoint_;
}

std::pair<uint64_t, std::string> Log::Published() const {
  MutexLock lock(&tree_mu_);
  return {size_, checkpoint_};
}

LogStats Log::stats() const {
  MutexLock lock(&tree_mu_);
  return stats_;
}

StatusOr<Hash> Log::Root(uint64_t size) const {
  MutexLock lock(&tree_mu_);
  if (size > size_) return OutOfRangeError("size " + std::to_string(size) + " is beyond the log (" + std::to_string(size_) + ")");
  return RootAt(tree_, size);
}

StatusOr<std::vector<Hash>> Log::InclusionProof(uint64_t index, uint64_t size) const {
  MutexLock lock(&tree_mu_);
  if (size > size_) return OutOfRangeError("size " + std::to_string(size) + " is beyond the log (" + std::to_string(size_) + ")");
  return ledger::InclusionProof(tree_, index, size);
}

StatusOr<std::vector<Hash>> Log::ConsistencyProof(uint64_t size1, uint64_t size2) const {
  MutexLock lock(&tree_mu_);
  if (size2 > size_) return OutOfRangeError("size " + std::to_string(size2) + " is beyond the log (" + std::to_string(size_) + ")");
  return ledger::ConsistencyProof(tree_, size1, size2);
}

std::string Log::TileBytes(const TileId& id) const {
  MutexLock lock(&tree_mu_);
  // Only what is published: a tile may hold unpublished nodes mid-commit.
  std::string bytes = tree_.TileBytes(id);
  uint64_t published_nodes = size_ >> id.level;
  uint64_t begin = id.index * kTileWidth;
  if (published_nodes <= begin) return "";
  bytes.resize(std::min<uint64_t>(bytes.size(), (published_nodes - begin) * 32));
  return bytes;
}

}  // namespace cairn::ledger
