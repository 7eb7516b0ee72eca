// CompactRange: the RFC 6962 tree head of a growing log, kept in O(log n)
// hashes (the roots of the perfect subtrees its leaves split into, largest
// first). The payout engine keeps one so that what depends on the tree head
// after an entry (which rounds are replayed, docs/verification.md) is a pure
// function of the entries, computed while they are replayed.
// Thread safety: a value; one owner.
#ifndef CAIRN_LEDGER_COMPACT_RANGE_H_
#define CAIRN_LEDGER_COMPACT_RANGE_H_

#include <cstdint>
#include <vector>

#include "ledger/merkle.h"

namespace cairn::ledger {

class CompactRange {
 public:
  // Adds the next leaf (its leaf hash, SHA-256(0x00 || entry)).
  void Append(const Hash& leaf_hash);
  // MTH of the leaves appended so far (EmptyRoot() for none).
  Hash Root() const;
  uint64_t size() const { return size_; }

 private:
  struct Peak {
    Hash hash;
    int level;  // covers 2^level leaves
  };
  std::vector<Peak> peaks_;  // levels strictly decreasing
  uint64_t size_ = 0;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_COMPACT_RANGE_H_
