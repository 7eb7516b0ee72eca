// Rendezvous for multi-worker jobs: the coordinator hosts one c10d TCPStore
// per job attempt, on a port the OS picks, and sends ":PORT" in each
// TaskAssign; workers dial it at the host they already reach the
// coordinator on and build their Gloo/NCCL process group from it. A new
// attempt gets a new store, so a requeued job never meets a stale peer.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_COORDINATOR_RENDEZVOUS_H_
#define CAIRN_COORDINATOR_RENDEZVOUS_H_

#include <map>
#include <memory>
#include <string>

#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"

namespace cairn::coordinator {

class RendezvousHost {
 public:
  RendezvousHost();
  ~RendezvousHost();
  // Starts (or returns) the store for (job, attempt); returns its port.
  StatusOr<int> Open(const std::string& job_id, uint32_t attempt);
  // Stops every store of `job_id` (the job ended or moved to a new attempt).
  void Close(const std::string& job_id);

 private:
  struct Store;
  Mutex mu_;
  std::map<std::string, std::unique_ptr<Store>> stores_ GUARDED_BY(mu_);  // "job#attempt"
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_RENDEZVOUS_H_
