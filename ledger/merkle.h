// RFC 6962 / RFC 9162 Merkle tree hashing and proofs (SHA-256).
//
//   leaf hash  = SHA-256(0x00 || entry)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
// Proofs are generated over a NodeSource — any store that can return the
// hash of a perfect, aligned subtree (level h, index i covers leaves
// [i*2^h, (i+1)*2^h)) — so a proof reads O(log n) stored hashes whatever the
// backing store. Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2
// (as transparency-dev/merkle implements them) and rejects a consistency
// proof from size 0. Specified in docs/ledger.md.
// Thread safety: free functions are pure; a NodeSource decides its own.
#ifndef CAIRN_LEDGER_MERKLE_H_
#define CAIRN_LEDGER_MERKLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/statusor.h"
#include "runtime/crypto/sha256.h"

namespace cairn::ledger {

using Hash = Sha256Digest;

Hash LeafHash(std::string_view entry);
Hash NodeHash(const Hash& left, const Hash& right);
Hash EmptyRoot();

// The root of the tree over these leaf hashes (reference implementation;
// O(n), used by tests and by the verifier's full replay).
Hash RootOfLeaves(const std::vector<Hash>& leaves);

// Hashes of perfect subtrees. Level 0 holds the leaf hashes.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The hash at (level, index); the subtree must be complete in the tree the
  // source holds (otherwise NotFound / OutOfRange).
  virtual StatusOr<Hash> Node(int level, uint64_t index) const = 0;
};

// The root of the first `size` leaves held by `nodes`.
StatusOr<Hash> RootAt(const NodeSource& nodes, uint64_t size);
// Audit path for leaf `index` in the tree of `size` leaves (RFC 9162 2.1.3.1).
StatusOr<std::vector<Hash>> InclusionProof(const NodeSource& nodes, uint64_t index, uint64_t size);
// Consistency proof between sizes `size1` <= `size2` (RFC 9162 2.1.4.1);
// size1 must be > 0.
StatusOr<std::vector<Hash>> ConsistencyProof(const NodeSource& nodes, uint64_t size1, uint64_t size2);

// Verifiers take byte strings so that wrong-length inputs are rejected
// rather than truncated. OK when the proof holds; otherwise InvalidArgument
// (malformed) or DataLoss (hashes do not match), naming why.
Status VerifyInclusion(uint64_t index, uint64_t size, std::string_view leaf_hash,
                       const std::vector<std::string>& proof, std::string_view root);
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::string_view root1, std::string_view root2,
                         const std::vector<std::string>& proof);

std::string HashBytes(const Hash& h);
StatusOr<Hash> HashFromBytes(std::string_view bytes);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_MERKLE_H_
