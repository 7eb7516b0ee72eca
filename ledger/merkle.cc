#include "ledger/merkle.h"

#include <cstring>

#include "runtime/base/encoding.h"

namespace cairn::ledger {
namespace {

int Len64(uint64_t x) { return x == 0 ? 0 : 64 - __builtin_clzll(x); }
int OnesCount64(uint64_t x) { return __builtin_popcountll(x); }
int TrailingZeros64(uint64_t x) { return x == 0 ? 64 : __builtin_ctzll(x); }

// Largest power of two strictly smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (Len64(n - 1) - 1); }

// MTH(D[begin:end]) from stored perfect subtrees: split off the largest
// aligned perfect subtree on the left until the range is one.
StatusOr<Hash> RangeHash(const NodeSource& nodes, uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (n == 0) return EmptyRoot();
  // A perfect subtree aligned to its size is stored directly.
  if ((n & (n - 1)) == 0 && begin % n == 0) return nodes.Node(TrailingZeros64(n), begin / n);
  uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(Hash left, RangeHash(nodes, begin, begin + k));
  ASSIGN_OR_RETURN(Hash right, RangeHash(nodes, begin + k, end));
  return NodeHash(left, right);
}

// RFC 6962 PATH(m, D[begin:end]).
Status Path(const NodeSource& nodes, uint64_t m, uint64_t begin, uint64_t end, std::vector<Hash>* out) {
  uint64_t n = end - begin;
  if (n <= 1) return OkStatus();
  uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(Path(nodes, m, begin, begin + k, out));
    ASSIGN_OR_RETURN(Hash h, RangeHash(nodes, begin + k, end));
    out->push_back(h);
  } else {
    RETURN_IF_ERROR(Path(nodes, m - k, begin + k, end, out));
    ASSIGN_OR_RETURN(Hash h, RangeHash(nodes, begin, begin + k));
    out->push_back(h);
  }
  return OkStatus();
}

// RFC 6962 SUBPROOF(m, D[begin:end], b).
Status SubProof(const NodeSource& nodes, uint64_t m, uint64_t begin, uint64_t end, bool b, std::vector<Hash>* out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!b) {
      ASSIGN_OR_RETURN(Hash h, RangeHash(nodes, begin, end));
      out->push_back(h);
    }
    return OkStatus();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(nodes, m, begin, begin + k, b, out));
    ASSIGN_OR_RETURN(Hash h, RangeHash(nodes, begin + k, end));
    out->push_back(h);
  } else {
    RETURN_IF_ERROR(SubProof(nodes, m - k, begin + k, end, false, out));
    ASSIGN_OR_RETURN(Hash h, RangeHash(nodes, begin, begin + k));
    out->push_back(h);
  }
  return OkStatus();
}

Hash Children(const Hash& l, const Hash& r) { return NodeHash(l, r); }

Hash ChainInner(Hash seed, const std::vector<Hash>& proof, size_t from, size_t to, uint64_t index) {
  for (size_t i = from; i < to; ++i) {
    seed = ((index >> (i - from)) & 1) == 0 ? Children(seed, proof[i]) : Children(proof[i], seed);
  }
  return seed;
}
Hash ChainInnerRight(Hash seed, const std::vector<Hash>& proof, size_t from, size_t to, uint64_t index) {
  for (size_t i = from; i < to; ++i) {
    if (((index >> (i - from)) & 1) == 1) seed = Children(proof[i], seed);
  }
  return seed;
}
Hash ChainBorderRight(Hash seed, const std::vector<Hash>& proof, size_t from) {
  for (size_t i = from; i < proof.size(); ++i) seed = Children(proof[i], seed);
  return seed;
}

StatusOr<std::vector<Hash>> ProofHashes(const std::vector<std::string>& proof) {
  std::vector<Hash> out;
  out.reserve(proof.size());
  for (size_t i = 0; i < proof.size(); ++i) {
    auto h = HashFromBytes(proof[i]);
    if (!h.ok()) return InvalidArgumentError("proof[" + std::to_string(i) + "]: " + h.status().message());
    out.push_back(*h);
  }
  return out;
}

Status Match(const Hash& got, std::string_view want, const char* what) {
  if (want.size() != 32) return InvalidArgumentError(std::string(what) + " must be 32 bytes");
  if (std::memcmp(got.data(), want.data(), 32) != 0) {
    return DataLossError(std::string(what) + " mismatch: proof gives " + HexEncode(DigestView(got)) +
                         ", expected " + HexEncode(want));
  }
  return OkStatus();
}

}  // namespace

Hash LeafHash(std::string_view entry) {
  Sha256Hasher h;
  const char prefix = 0x00;
  h.Update(&prefix, 1);
  h.Update(entry);
  return h.Finish();
}

Hash NodeHash(const Hash& left, const Hash& right) {
  unsigned char buf[65];
  buf[0] = 0x01;
  std::memcpy(buf + 1, left.data(), 32);
  std::memcpy(buf + 33, right.data(), 32);
  return Sha256(std::string_view(reinterpret_cast<const char*>(buf), sizeof(buf)));
}

Hash EmptyRoot() { return Sha256(""); }

Hash RootOfLeaves(const std::vector<Hash>& leaves) {
  if (leaves.empty()) return EmptyRoot();
  std::vector<Hash> level = leaves;
  while (level.size() > 1) {
    std::vector<Hash> next;
    next.reserve((level.size() + 1) / 2);
    for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(NodeHash(level[i], level[i + 1]));
    // RFC 6962 splits at the largest power of two, which for a bottom-up
    // build means an odd node is carried up unchanged.
    if (level.size() % 2 == 1) next.push_back(level.back());
    level = std::move(next);
  }
  return level[0];
}

std::string HashBytes(const Hash& h) { return std::string(DigestView(h)); }

StatusOr<Hash> HashFromBytes(std::string_view bytes) {
  if (bytes.size() != 32) return InvalidArgumentError("hash must be 32 bytes, got " + std::to_string(bytes.size()));
  Hash h;
  std::memcpy(h.data(), bytes.data(), 32);
  return h;
}

StatusOr<Hash> RootAt(const NodeSource& nodes, uint64_t size) { return RangeHash(nodes, 0, size); }

StatusOr<std::vector<Hash>> InclusionProof(const NodeSource& nodes, uint64_t index, uint64_t size) {
  if (index >= size) {
    return OutOfRangeError("leaf " + std::to_string(index) + " is not in a tree of size " + std::to_string(size));
  }
  std::vector<Hash> out;
  RETURN_IF_ERROR(Path(nodes, index, 0, size, &out));
  return out;
}

StatusOr<std::vector<Hash>> ConsistencyProof(const NodeSource& nodes, uint64_t size1, uint64_t size2) {
  if (size1 == 0 || size1 > size2) {
    return InvalidArgumentError("consistency proof needs 0 < size1 <= size2, got " + std::to_string(size1) + " and " +
                                std::to_string(size2));
  }
  std::vector<Hash> out;
  RETURN_IF_ERROR(SubProof(nodes, size1, 0, size2, true, &out));
  return out;
}

Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                       const std::vector<std::string>& proof_bytes, std::string_view root) {
  if (index >= size) {
    return InvalidArgumentError("index " + std::to_string(index) + " is beyond tree size " + std::to_string(size));
  }
  ASSIGN_OR_RETURN(Hash leaf, HashFromBytes(leaf_hash));
  ASSIGN_OR_RETURN(std::vector<Hash> proof, ProofHashes(proof_bytes));
  int inner = Len64(index ^ (size - 1));
  int border = OnesCount64(index >> inner);
  if (proof.size() != static_cast<size_t>(inner + border)) {
    return InvalidArgumentError("inclusion proof has " + std::to_string(proof.size()) + " hashes, want " +
                                std::to_string(inner + border));
  }
  Hash r = ChainInner(leaf, proof, 0, inner, index);
  r = ChainBorderRight(r, proof, inner);
  return Match(r, root, "root");
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::string_view root1, std::string_view root2,
                         const std::vector<std::string>& proof_bytes) {
  if (size2 < size1) return InvalidArgumentError("size1 > size2");
  if (size1 == 0) return InvalidArgumentError("a consistency proof from the empty tree is meaningless");
  if (size1 == size2) {  // nothing to prove: the roots must simply be the same bytes
    if (!proof_bytes.empty()) return InvalidArgumentError("size1 == size2 but the proof is not empty");
    if (root1 != root2) return DataLossError("equal sizes with different roots");
    return OkStatus();
  }
  if (root1.size() != 32 || root2.size() != 32) return InvalidArgumentError("roots must be 32 bytes");
  if (proof_bytes.empty()) return InvalidArgumentError("empty consistency proof");
  ASSIGN_OR_RETURN(std::vector<Hash> proof, ProofHashes(proof_bytes));
  int inner = Len64((size1 - 1) ^ (size2 - 1));
  int border = OnesCount64((size1 - 1) >> inner);
  int shift = TrailingZeros64(size1);
  inner -= shift;
  Hash seed;
  size_t start;
  if (size1 == (uint64_t{1} << shift)) {
    ASSIGN_OR_RETURN(seed, HashFromBytes(root1));
    start = 0;
  } else {
    seed = proof[0];
    start = 1;
  }
  if (proof.size() != start + inner + border) {
    return InvalidArgumentError("consistency proof has " + std::to_string(proof.size()) + " hashes, want " +
                                std::to_string(start + inner + border));
  }
  uint64_t mask = (size1 - 1) >> shift;
  Hash h1 = ChainInnerRight(seed, proof, start, start + inner, mask);
  h1 = ChainBorderRight(h1, proof, start + inner);
  RETURN_IF_ERROR(Match(h1, root1, "first root"));
  Hash h2 = ChainInner(seed, proof, start, start + inner, mask);
  h2 = ChainBorderRight(h2, proof, start + inner);
  return Match(h2, root2, "second root");
}

}  // namespace cairn::ledger
