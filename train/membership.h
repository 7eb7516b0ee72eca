// Elastic membership for multi-worker training (after torchft's quorum):
// before each round (and again after a failed collective) the live workers
// agree, through the coordinator's TCPStore, on who takes part, and build a
// fresh Gloo process group for exactly those. A worker lost mid-round makes
// the survivors' collective fail; they roll back to the round's start, meet
// again without it, and carry on — nobody restarts.
//
// Protocol for attempt (round r, try e), keys under "r<r>e<e>/":
//   1. each worker sets here/<uid> (uid: its rank in the original placement)
//   2. waits until every member of the previous group is here, or the
//      timeout passes
//   3. proposes the sorted uids present with compareSet on "members": the
//      first proposal wins and every worker adopts it (one answer for all)
//   4. a worker left out of the winning list has been dropped: it stops
// Includes LibTorch's c10d headers: include from train/*.cc only.
// Thread safety: one training thread.
#ifndef CAIRN_TRAIN_MEMBERSHIP_H_
#define CAIRN_TRAIN_MEMBERSHIP_H_

#include <chrono>
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
  uint32_t world() const { return static_cast<uint32_t>(members.size()); }
};

class Membership {
 public:
  // Connects to the store; `prefix` separates attempts of one job.
  static StatusOr<Membership> Connect(const std::string& host, int port, const std::string& prefix, uint32_t uid,
                                      uint32_t world, const std::string& gloo_host);
  // Agrees on the members for (round, try) and builds their group. Waits at
  // most `timeout` for the previous members. FailedPrecondition if this
  // worker was left out.
  StatusOr<Group> Join(uint64_t round, uint32_t attempt, std::chrono::milliseconds timeout);
  const std::vector<uint32_t>& members() const { return members_; }

 private:
  c10::intrusive_ptr<c10d::Store> store_;
  std::string gloo_host_;
  uint32_t uid_ = 0;
  std::vector<uint32_t> members_;
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_MEMBERSHIP_H_
