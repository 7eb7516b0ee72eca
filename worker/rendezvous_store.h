// RendezvousStore: the c10d TCPStore a worker hosts for the multi-worker
// jobs it leads (rank 0 of a placement). Its address goes into the worker's
// hello; the coordinator hands it to the job's other ranks, which meet
// there to form their process groups (train/membership.h) under a key
// prefix per (job, attempt). Hosting it on a worker keeps the coordinator
// out of the training path: a coordinator restart does not touch a running
// group.
// Thread safety: the store serves clients on its own threads.
#ifndef CAIRN_WORKER_RENDEZVOUS_STORE_H_
#define CAIRN_WORKER_RENDEZVOUS_STORE_H_

#include <memory>

#include "runtime/base/statusor.h"

namespace cairn::worker {

class RendezvousStore {
 public:
  // Listens on `port` (0: a free port the OS picks). Unavailable if it
  // cannot listen.
  static StatusOr<std::unique_ptr<RendezvousStore>> Start(int port = 0);
  ~RendezvousStore();
  int port() const { return port_; }

 private:
  struct Impl;
  RendezvousStore() = default;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_RENDEZVOUS_STORE_H_
