// RendezvousHost: where the workers of a multi-worker training job meet to
// form their process groups (train/membership.h): one c10d TCPStore for
// every job on the coordinator's host, keys under "<job>/<attempt>/", its
// port sent in each TaskAssign (":PORT", at the host workers already reach
// the coordinator on).
//
// Modes:
//  - kInProcess: the store lives in the coordinator's process (tests, and
//    embedders that do not restart it).
//  - kDetached: the store lives in its own process (`cairn rendezvous-host
//    --data-dir DIR`), which outlives a coordinator that crashes, so a
//    restarted coordinator re-adopts training groups that never noticed.
//    It records itself in DIR/rendezvous.json ({"pid", "port"}); a starting
//    coordinator reuses a live one, or starts one. The coordinator touches
//    DIR/rendezvous.alive every second (Touch); the host exits once that is
//    older than its linger time (default 60 s), and at once on Stop() (a
//    clean coordinator shutdown).
// Thread safety: Touch(), port() and MarkGone() from any thread.
#ifndef CAIRN_COORDINATOR_RENDEZVOUS_HOST_H_
#define CAIRN_COORDINATOR_RENDEZVOUS_HOST_H_

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"

namespace cairn::coordinator {

struct RendezvousOptions {
  enum Mode { kInProcess, kDetached } mode = kInProcess;
  std::string data_dir;   // kDetached: where rendezvous.json and rendezvous.alive live
  std::string binary;     // kDetached: the cairn executable that runs `rendezvous-host`
  int linger_seconds = 60;
};

class RendezvousHost {
 public:
  static StatusOr<std::unique_ptr<RendezvousHost>> Start(const RendezvousOptions& options);
  ~RendezvousHost();
  int port() const { return port_; }
  // The coordinator is alive (kDetached: refreshes DIR/rendezvous.alive).
  void Touch();
  // A clean shutdown: a detached host exits now.
  void Stop();
  // The coordinator dropped the worker with `uid` from (job, attempt): its
  // group stops waiting for it at the next round boundary or vote
  // (train/membership.h). Queued and written by a thread of its own, so the
  // caller (the coordinator's bus thread) never waits on the store; a write
  // that fails (a detached host restarting) is tried again for ~10 s.
  // `secret`: the attempt's rendezvous secret (train/seat.h), its keys' prefix.
  void MarkGone(const std::string& job_id, uint32_t attempt, uint32_t uid, const std::string& secret = "");

 private:
  struct Store;
  struct Gone {
    std::string job_id;
    uint32_t attempt = 0, uid = 0;
    std::string secret;
  };
  RendezvousHost() = default;
  void MarkLoop();
  bool Write(const Gone& g);  // one try, on the marker thread
  RendezvousOptions options_;
  std::unique_ptr<Store> store_;  // kInProcess: the server; kDetached: a client, made on first use (marker thread)
  int pid_ = 0;                   // kDetached
  int port_ = 0;
  Mutex mu_;
  CondVar wake_;
  std::deque<Gone> gone_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread marker_ GUARDED_BY(mu_);  // started by the first MarkGone
};

// The body of `cairn rendezvous-host`: serves a store on `port` (0: any),
// records it in DIR/rendezvous.json, and returns once DIR/rendezvous.alive
// is older than `linger_seconds` or SIGTERM arrives.
Status RunRendezvousHost(const std::string& data_dir, int port, int linger_seconds);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_RENDEZVOUS_HOST_H_
