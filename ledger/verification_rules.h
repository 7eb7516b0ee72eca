// The rules that decide which rounds are replayed and how much a worker is
// trusted (docs/verification.md), as pure integer functions of what the
// log holds, so that every replay of the log, on any machine, draws the same
// challenges and shows the same reputations.
//
//   reputation  = x / (x + 10 + 100 * fails + 10 * flagged), x = 10 * passes + rounds
//                 (parts per million; a new worker has 0)
//   p(worker)   = max(p_min, 1 - reputation)
//   draw        = the first 8 bytes (big-endian) of
//                 SHA-256("cairn/challenge/v1\n" || tree head after the roundAudited entry ||
//                         u32le len(job) || job || u32le attempt || u64le round || worker key)
//   replayed    = the worker's accepted rounds before this one < probation
//                 || the round was flagged by the cheap checks
//                 || draw / 2^64 < p(worker)
// The tree head is the RFC 6962 root of the log up to and including the
// roundAudited entry: unknown to the worker when it signs its receipt (the
// operator's signature over the audit is in it), and committed to by the
// checkpoint the log signs for that batch.
// Thread safety: pure functions.
#ifndef CAIRN_LEDGER_VERIFICATION_RULES_H_
#define CAIRN_LEDGER_VERIFICATION_RULES_H_

#include <cstdint>
#include <string>

#include "ledger/merkle.h"

namespace cairn::ledger {

// What a job's spec asks for when it says nothing (`verify:` absent).
inline constexpr uint32_t kDefaultReplayPpm = 100'000;  // p_min = 10%
inline constexpr uint32_t kDefaultProbationRounds = 3;
inline constexpr uint32_t kDefaultHoldRounds = 10;       // W >= 1 / p_min

// How many of its latest rounds of a job a worker keeps the state of, to
// disclose on challenge: the hold window and a margin for audits that come
// late (a coordinator that was down). A challenge of an older round, not yet
// answered, is "not comparable" rather than the worker's failure.
inline uint64_t RetainedRounds(uint32_t hold) { return uint64_t{hold} + 20; }

// Cheap-check flags in roundAudited rows (coordinator/round_audit.h).
enum AuditFlag : uint32_t {
  kFlagAssignment = 1u << 0,   // the data or the group differs from what the coordinator derives
  kFlagState = 1u << 1,        // fingerprintBefore is not the round's published global state
  kFlagTimestamps = 1u << 2,   // outside the time the coordinator saw, or faster than its measured speed
  kFlagNorm = 1u << 3,         // the update's norm is far from the round's robust centre's
  kFlagDirection = 1u << 4,    // the update points away from the robust centre
  kFlagDuplicate = 1u << 5,    // the same update as another worker's, or an earlier round's
  kFlagMissing = 1u << 6,      // a commitment or the update itself is missing
};
// "norm,direction" for people.
std::string AuditFlagNames(uint32_t flags);

// What the log says of one worker (all jobs).
struct WorkerRecord {
  uint64_t rounds = 0;          // accepted receipts
  uint64_t passes = 0;          // verdicts "pass"
  uint64_t fails = 0;           // verdicts "fail"
  uint64_t not_comparable = 0;  // verdicts "not comparable"
  uint64_t flagged = 0;         // audited rounds with any flag
};

inline constexpr uint32_t kMillion = 1'000'000;

uint32_t ReputationPpm(const WorkerRecord& w);
uint32_t ReplayProbabilityPpm(uint32_t p_min_ppm, const WorkerRecord& w);
// The 64-bit draw for one (job, attempt, round, worker) under `tree_head`.
uint64_t ChallengeDraw(const Hash& tree_head, const std::string& job, uint32_t attempt, uint64_t round,
                       const std::string& worker_key);
// draw / 2^64 < p_ppm / 10^6, exactly.
bool DrawHits(uint64_t draw, uint32_t p_ppm);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_VERIFICATION_RULES_H_
