#include "ledger/verify.h"

#include <cstring>

#include "runtime/base/encoding.h"

namespace cairn::ledger {

StatusOr<VerifyReport> VerifyLog(LogReader& reader, const NoteVerifier& vkey,
                                 const std::function<void(uint64_t, uint64_t)>& progress) {
  VerifyReport report;
  ASSIGN_OR_RETURN(std::string note, reader.Checkpoint());
  auto cp = OpenCheckpoint(note, vkey);
  if (!cp.ok()) return Status(cp.status().code(), "checkpoint: " + cp.status().message());
  report.checkpoint = *cp;
  report.payouts = std::make_unique<PayoutEngine>(vkey.public_key);

  HashTiles tree;
  constexpr uint64_t kChunk = 1024;
  for (uint64_t first = 0; first < cp->size; first += kChunk) {
    uint64_t n = std::min(kChunk, cp->size - first);
    auto entries = reader.Entries(first, n);
    if (!entries.ok()) return entries.status().WithContext("reading entries from " + std::to_string(first));
    if (entries->size() != n) {
      return DataLossError("the log serves " + std::to_string(first + entries->size()) +
                           " entries but its checkpoint claims " + std::to_string(cp->size));
    }
    for (uint64_t k = 0; k < n; ++k) {
      uint64_t index = first + k;
      const std::string& e = (*entries)[k];
      auto header = ValidateEntry(e);
      if (!header.ok()) return Status(header.status().code(), "entry " + std::to_string(index) + ": " + header.status().message());
      tree.Append(LeafHash(e));
      Status paid = report.payouts->Apply(index, e);
      if (!paid.ok()) return Status(paid.code(), "payout rules: " + paid.message());
    }
    report.entries += n;
    if (progress) progress(report.entries, cp->size);
  }
  ASSIGN_OR_RETURN(Hash root, RootAt(tree, cp->size));
  if (root != cp->root) {
    return DataLossError("the entries give root " + Base64Encode(DigestView(root)) + " but the checkpoint says " +
                         Base64Encode(DigestView(cp->root)));
  }
  // Every stored hash must be the one the entries give.
  for (int level = 0; (cp->size >> level) > 0; ++level) {
    if (!reader.HasLevel(level)) continue;
    uint64_t nodes = cp->size >> level;
    for (uint64_t t = 0; t * kTileWidth < nodes; ++t) {
      int width = static_cast<int>(std::min<uint64_t>(kTileWidth, nodes - t * kTileWidth));
      auto stored = reader.HashTile(level, t, width);
      if (!stored.ok()) return stored.status().WithContext("hash tile " + std::to_string(level) + "/" + std::to_string(t));
      std::string want = tree.TileBytes(TileId{level, t}).substr(0, static_cast<size_t>(width) * 32);
      if (*stored != want) {
        size_t k = 0;
        while (k < static_cast<size_t>(width) && stored->compare(k * 32, 32, want, k * 32, 32) == 0) ++k;
        return DataLossError("hash tile " + std::to_string(level) + "/" + std::to_string(t) + " is wrong at hash " +
                             std::to_string(k) + " (tree level " + std::to_string(level) + ", node " +
                             std::to_string(t * kTileWidth + k) + ")");
      }
      ++report.tiles_compared;
    }
  }
  RETURN_IF_ERROR(report.payouts->CheckInvariants());
  return report;
}

}  // namespace cairn::ledger
