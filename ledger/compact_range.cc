#include "ledger/compact_range.h"

namespace cairn::ledger {

void CompactRange::Append(const Hash& leaf_hash) {
  Peak p{leaf_hash, 0};
  // Two perfect subtrees of one size merge into the next size up.
  while (!peaks_.empty() && peaks_.back().level == p.level) {
    p = Peak{NodeHash(peaks_.back().hash, p.hash), p.level + 1};
    peaks_.pop_back();
  }
  peaks_.push_back(p);
  ++size_;
}

Hash CompactRange::Root() const {
  if (peaks_.empty()) return EmptyRoot();
  // MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n])) with k the largest power of
  // two below n: folding the peaks from the right gives exactly that.
  Hash root = peaks_.back().hash;
  for (size_t i = peaks_.size() - 1; i-- > 0;) root = NodeHash(peaks_[i].hash, root);
  return root;
}

}  // namespace cairn::ledger
