// ReplayStore: what a worker keeps so that it can answer a challenge
// (docs/verification.md): for each round it trained, the canonical state the
// round started from and its step chain, on disk under
//   DIR/<job>/<attempt>/<round>.state   .steps
// It keeps the last `keep` rounds of each (job, attempt) (the job's window
// W plus a margin) and forgets jobs untouched for a week.
// Thread safety: all methods may be called from any thread (files only; a
// round is written once, before its receipt is sent).
#ifndef CAIRN_WORKER_REPLAY_STORE_H_
#define CAIRN_WORKER_REPLAY_STORE_H_

#include <cstdint>
#include <string>

#include "runtime/base/statusor.h"
#include "runtime/crypto/sha256.h"

namespace cairn::worker {

class ReplayStore {
 public:
  // `dir` is created if absent; jobs untouched for `max_age_s` are removed.
  static StatusOr<ReplayStore> Open(const std::string& dir, int64_t max_age_s = 7 * 24 * 3600);

  // Writes round `round`'s state and step chain (durably: a challenge may
  // come after a restart), then drops rounds of (job, attempt) older than
  // round - keep.
  Status Keep(const std::string& job, uint32_t attempt, uint64_t round, const std::string& state,
              const std::string& steps, uint64_t keep);
  // The state and chain of a round, checked against the hashes its receipt
  // committed to: NotFound if this worker no longer holds them, DataLoss if
  // what it holds differs.
  struct Disclosure {
    std::string state, steps;
  };
  StatusOr<Disclosure> Find(const std::string& job, uint32_t attempt, uint64_t round, const Sha256Digest& state_hash,
                            const Sha256Digest& steps_hash) const;
  const std::string& dir() const { return dir_; }

 private:
  std::string RoundPath(const std::string& job, uint32_t attempt, uint64_t round) const;
  std::string dir_;
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_REPLAY_STORE_H_
