// The cheap checks on every round, with no replay (docs/verification.md):
// a pure function of the round's receipts, what the log says around them
// and the updates the workers uploaded, so every rule is tested exactly
// (round_audit_test.cc). A flag raises that worker's replay probability to
// 1 for this round (ledger/verification_rules.h); it never fails anyone on
// its own.
//   assignment  the worker's rank is not its uid's place in the group the
//               receipts agree on, or (images) it drew chunks outside its
//               shard (chunk i belongs to rank i mod world)
//   state       fingerprintBefore is not the round before's agreed
//               fingerprintAfter, or fingerprintAfter differs from what most
//               of the round's workers agree on (diloco and ddp end a round
//               on the same parameters everywhere)
//   timestamps  start before the seat's placement or before the worker's own
//               previous round ended, or end after the coordinator received
//               it (each with skew), or a round faster than ten times the
//               worker's measured speed allows. (Not the previous acceptance:
//               a receipt held in an outbox through an outage is accepted
//               late, honestly.)
//   norm        diloco: the update's norm is over 4x or under 1/4 the median
//               norm of the round's other updates (three or more in all)
//   direction   diloco: cosine(update, coordinate-wise median of the round's
//               other updates) < 0.2 (three or more in all). Leaving the
//               update out of its own centre matters: with four workers a
//               median that counts a random update leans toward it.
//   duplicate   the update's hash equals another worker's this round or any
//               update earlier in the job
//   missing     no commitments, or (diloco) no uploaded update
// Thread safety: pure functions.
#ifndef CAIRN_COORDINATOR_ROUND_AUDIT_H_
#define CAIRN_COORDINATOR_ROUND_AUDIT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cairn::coordinator {

inline constexpr int64_t kAuditSkewMs = 5000;

struct AuditedReceipt {
  std::string worker;                 // key, raw
  uint32_t rank = 0;
  std::vector<uint32_t> members;      // uids in rank order
  std::optional<uint32_t> uid;        // the worker's uid in the attempt, if the coordinator knows it
  std::string fp_before, fp_after, update_hash;  // raw
  bool has_commitments = false;
  int64_t start_ms = 0, end_ms = 0;
  int64_t window_ms = 0;               // the seat's placement: no round of it starts earlier
  int64_t accepted_ms = 0;             // when the coordinator received it: no round ends later
  int64_t previous_end_ms = 0;         // the end its previous round claimed (0: none): rounds do not overlap
  double min_seconds = 0;             // the round's steps at ten times the worker's measured speed (0: unknown)
  std::vector<uint32_t> chunks;       // consumed, global chunk indices
  std::optional<std::vector<float>> update;  // diloco: the uploaded update, as floats
};

struct AuditContext {
  bool diloco = false;
  bool shard_by_chunk = false;        // images: chunk (i - chunk_base) belongs to rank (i - chunk_base) % world
  uint32_t chunk_base = 0;
  std::string previous_consensus;     // the round before's agreed fingerprintAfter ("": unknown)
  std::map<std::string, std::string> earlier_updates;  // update hash -> "round R by <worker>" (this job, earlier rounds)
};

struct AuditVerdict {
  std::string worker;
  uint32_t flags = 0;
  std::string note;  // what was seen, for people (<= 256 bytes)
};

std::vector<AuditVerdict> AuditRound(const AuditContext& ctx, const std::vector<AuditedReceipt>& receipts);

// The fingerprintAfter most of `receipts` agree on ("" if none has a majority).
std::string ConsensusAfter(const std::vector<AuditedReceipt>& receipts);

// The floats of an uploaded update: an int8 buffer (kernels/quantize_cpu.h)
// dequantized, or raw f32 values. InvalidArgument naming what is wrong.
std::optional<std::vector<float>> UpdateValues(const std::string& bytes, bool int8, std::string* error);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_ROUND_AUDIT_H_
