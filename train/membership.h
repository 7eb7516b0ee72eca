// Elastic membership for multi-worker training (after torchft's quorum):
// before each round (and again after a failed collective) the live workers
// agree, through the coordinator's TCPStore, on who takes part, and build a
// fresh Gloo process group for exactly those. A worker lost mid-round makes
// the survivors' collective fail; they roll back to the round's start, meet
// again without it, and carry on — nobody restarts.
//
// Protocol for attempt (round r, try e), keys under "r<r>e<e>/":
//   0. (authenticated attempts) each worker publishes key/<uid>: its Ed25519
//      key and the operator's seat ticket for it (train/seat.h); a uid whose
//      ticket does not verify is never taken into a group, and the group's
//      keys are what peers' updates are opened with
//   1. each worker sets here/<uid> (uid: its rank in the original placement,
//      or a higher one for a worker joining a running job) to "in" if it
//      holds the job's state, "new" if it does not yet
//   2. waits until every member of the previous group is here, or the
//      timeout passes; a member the coordinator declared lost (it writes
//      gone/<uid> when it drops a worker from the job) is not waited for;
//      joiners registered under joiner/<i> that are here are taken in too,
//      but never waited for
//   3. proposes the uids present, those holding the state first, with
//      compareSet on "members": the first proposal wins and every worker
//      adopts it (one answer for all). If any member is "new", rank 0 (who
//      holds the state) broadcasts it before the round (Group::sync)
//   4. a worker left out of the winning list has been dropped: it stops
//   5. after the round's work each member votes vote/<uid> = ok or failed;
//      when all members voted ok a worker proposes "commit", on any failed
//      vote, a member gone, or a missing vote past the timeout it proposes
//      "abort", with
//      compareSet on "decision": every member adopts the one stored answer.
//      A collective can succeed on some ranks and fail on others (a peer
//      that finished its part and vanished); without this vote one survivor
//      would keep the round and another redo it, and their models diverge.
// Includes LibTorch's c10d headers: include from train/*.cc only.
// Thread safety: one training thread.
#ifndef CAIRN_TRAIN_MEMBERSHIP_H_
#define CAIRN_TRAIN_MEMBERSHIP_H_

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "runtime/base/statusor.h"

namespace cairn::train {

struct Group {
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
  std::vector<uint32_t> members;  // uids; rank = position
  uint32_t rank = 0;
  bool sync = false;  // some member is new: rank 0 broadcasts the state first
  std::map<uint32_t, std::string> keys;  // authenticated attempts: each member's Ed25519 key
  uint32_t world() const { return static_cast<uint32_t>(members.size()); }
};

// Who may join an authenticated attempt (train/seat.h).
struct SeatAuth {
  std::string operator_key;  // checks tickets
  std::string job;
  uint32_t attempt = 0;
  std::string public_key;    // this worker's
  std::string ticket;        // the operator's signature over this worker's seat
};

class Membership {
 public:
  // Connects to the store; `prefix` separates attempts of one job. A
  // `joiner` is not in the original placement: it registers itself and is
  // taken in at a later round boundary.
  // `auth` (may be null: an unauthenticated attempt, as in-process tests
  // run) makes this worker publish its key and ticket, and admit only peers
  // whose tickets verify.
  static StatusOr<Membership> Connect(const std::string& host, int port, const std::string& prefix, uint32_t uid,
                                      uint32_t world, const std::string& gloo_host, bool joiner = false,
                                      const SeatAuth* auth = nullptr);
  // For a joiner: the round the members last started (0 before the first),
  // or FailedPrecondition once the job has finished.
  StatusOr<uint64_t> CurrentRound();
  // After the last round: tells waiting joiners there is nothing to join.
  void Finish();
  // This worker now holds the job's state (it was broadcast, or committed).
  void MarkSynced() { synced_ = true; }
  bool synced() const { return synced_; }
  // Agrees on the members for (round, try) and builds their group. Waits at
  // most `timeout` for the previous members. FailedPrecondition if this
  // worker was left out; Aborted if a member agreed on never connected (it
  // died meanwhile): try again with the next try number.
  StatusOr<Group> Join(uint64_t round, uint32_t attempt, std::chrono::milliseconds timeout);
  // The round's commit vote (step 5) for the group formed by Join(round,
  // attempt): true when every member's work succeeded and all must keep the
  // round; false when all must roll back and retry. Waits at most `timeout`
  // for the other members' votes.
  StatusOr<bool> Commit(uint64_t round, uint32_t attempt, bool ok, std::chrono::milliseconds timeout);
  const std::vector<uint32_t>& members() const { return members_; }
  // Join and Commit stop waiting with Cancelled once *cancel is set (the
  // task was revoked), and with FailedPrecondition once the coordinator
  // wrote this worker's own gone marker. `cancel` outlives the membership.
  void set_cancel(const std::atomic<bool>* cancel) { cancel_ = cancel; }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  std::string gloo_host_;
  uint32_t uid_ = 0;
  bool synced_ = false;
  const std::atomic<bool>* cancel_ = nullptr;
  // Checked in every wait loop (see set_cancel); `check_gone` reads this
  // worker's own gone marker (one store round trip).
  Status Stopped(bool check_gone = true);
  static Status Dropped();
  std::vector<uint32_t> members_;
  std::optional<SeatAuth> auth_;
  std::map<uint32_t, std::string> verified_;  // uid -> key whose ticket verified
  // The key of `uid` if its published ticket verifies (cached); NotFound
  // while it has published none, Unauthenticated for a bad one.
  StatusOr<std::string> VerifiedKey(uint32_t uid);
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_MEMBERSHIP_H_
