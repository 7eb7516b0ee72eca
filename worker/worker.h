// Worker: the `cairn worker` process as a library. Create() detects the
// devices, measures the machine once and opens the durable outbox; Run() serves a coordinator until stopped: the bus
// protocol (worker/agent.h), the tasks (worker/task_runner.h) and a
// background uploader that puts the blobs outbox records carry
// (checkpoints, models) into the coordinator's blob store before the
// records are sent.
//
// State on disk, under state_dir (default $CAIRN_HOME):
//   outbox.db    what this worker owes the coordinator, and what it signed
//   cache/       content-addressed dataset chunks (default; see cache_dir)
//   replay/      the state and step chain of recent rounds, disclosed when the
//                coordinator's heartbeats list a challenge (worker/replay_store.h);
//                the uploader thread answers challenges too
// Thread safety: Run() blocks its caller; stop may be set from any thread;
// the accessors may be called from any thread.
#ifndef CAIRN_WORKER_WORKER_H_
#define CAIRN_WORKER_WORKER_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/base/mutex.h"
#include "worker/replay_store.h"

#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "worker/agent.h"
#include "worker/outbox.h"
#include "worker/task_runner.h"

namespace cairn::worker {

struct WorkerOptions {
  std::string coordinator_host = "127.0.0.1";  // bus and HTTP host
  int bus_port = 7450;
  int http_port = 7480;
  std::string coordinator_key;  // the coordinator's CURVE public key, raw 32 bytes (pinned)
  std::string name = "worker";
  std::string region = "local";
  uint64_t price_per_hour_micros = 1'000'000;
  uint32_t max_tasks = 1;
  std::string devices = "auto";  // auto | cpu | cuda
  double measure_seconds = 1.0;  // self-measurement (0: skip)
  int threads = 0;               // intra-op threads per task (0: all cores)
  std::string state_dir;         // required: outbox.db lives here
  std::string cache_dir;         // default state_dir/cache
  const Clock* clock = Clock::System();
  int64_t http_retry_budget_ms = 60'000;
  int hello_retry_ms = 1000;
  int resend_ms = 2000;
  // Tests: run tasks with this instead of RunTask.
  TaskRunner runner;
  bool verify_only = false;      // take verification tasks only (a dedicated verifier)
  train::Misbehave misbehave = train::Misbehave::kNone;  // tests only (CAIRN_TEST_MISBEHAVE)
  // Tests only (CAIRN_TEST_CLAIM_GPU): advertise this GPU instead of what is
  // detected, so placement can be tested where no GPU exists. Work sent to
  // it that needs the device fails as it would on a broken GPU.
  std::optional<wire::Device> claimed_gpu;
};

class Worker {
 public:
  static StatusOr<std::unique_ptr<Worker>> Create(Ed25519PrivateKey identity, WorkerOptions options);
  ~Worker();

  Status Run(const std::atomic<bool>& stop);

  const std::string& id() const { return id_; }
  const std::vector<wire::Device>& devices() const { return devices_; }
  double measured_tflops() const { return tflops_; }
  bool cuda() const { return env_.cuda; }
  Outbox& outbox() { return *outbox_; }
  AgentStats stats() const { return agent_ ? agent_->stats() : AgentStats{}; }

 private:
  Worker() = default;
  void UploadLoop(const std::atomic<bool>& stop);
  // Bus thread: remembers the challenges a heartbeat listed.
  void OnChallenges(const std::vector<wire::Challenge>& challenges);
  // Uploader thread: discloses what challenged rounds committed to.
  void AnswerChallenges(CoordinatorHttp& http);

  Ed25519PrivateKey identity_ = Ed25519PrivateKey::Generate().value();
  WorkerOptions options_;
  std::string id_;
  std::vector<wire::Device> devices_;
  double tflops_ = 0;
  WorkerEnvironment env_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<WorkerAgent> agent_;
  std::optional<ReplayStore> replay_;
  Mutex challenges_mu_;
  std::vector<wire::Challenge> challenges_ GUARDED_BY(challenges_mu_);    // the latest list
  std::map<std::string, int64_t> answered_;  // uploader thread: challenge -> when it was answered (monotonic ms)
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_WORKER_H_
