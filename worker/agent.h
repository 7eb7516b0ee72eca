// WorkerAgent: the worker side of the bus protocol (docs/wire.md). It says
// hello with the worker's signed identity, heartbeats, reconnects with
// exponential backoff when the coordinator goes silent (Paranoid Pirate),
// runs each assigned task on its own thread through a TaskRunner, streams
// the task's log lines, and reports how it ended. On stop it cancels its
// tasks and says goodbye, which hands its leases back at once.
//
// The agent knows the protocol, not the workloads: the TaskRunner (given by
// `cairn worker`) decides what a task does.
// Thread safety: Run() blocks its caller; `stop` may be set from any thread.
#ifndef CAIRN_WORKER_AGENT_H_
#define CAIRN_WORKER_AGENT_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "runtime/crypto/ed25519.h"
#include "runtime/wire/messages.h"

namespace cairn::worker {

// What a running task may send to the coordinator, from the task's thread:
// log lines (for `cairn logs`) and ledger entries it signed (receipts,
// checkpoints, models) for the coordinator to check and append.
struct TaskIo {
  std::function<void(const std::string& line)> log;
  std::function<void(const std::string& signed_entry)> receipt;
  // A serve task tells the gateway where its replica listens.
  std::function<void(const std::string& endpoint, const std::string& task)> serving;
};

// Runs one task to the end. `cancel` becomes true when the lease is revoked
// or the worker stops. Returns the message for TaskFinished (OK) or why it
// failed.
using TaskRunner =
    std::function<StatusOr<std::string>(const wire::TaskAssign& task, const std::atomic<bool>& cancel, const TaskIo& io)>;

struct AgentOptions {
  std::string coordinator;      // "tcp://host:port"
  std::string coordinator_key;  // its CURVE public key, raw 32 bytes (pinned)
  std::string name;
  std::string region = "local";
  uint64_t price_per_hour_micros = 1'000'000;
  uint32_t max_tasks = 1;
  std::vector<wire::Device> devices;
  double measured_tflops = 0;
  int max_backoff_ms = 32'000;
};

struct AgentStats {
  uint64_t connects = 0;
  uint64_t tasks_started = 0;
  uint64_t tasks_finished = 0;
};

class WorkerAgent {
 public:
  WorkerAgent(Ed25519PrivateKey identity, AgentOptions options, TaskRunner runner);
  // Serves until `stop` is true. Errors only for what retrying cannot fix
  // (bad keys); a lost coordinator is retried forever.
  Status Run(const std::atomic<bool>& stop);
  AgentStats stats() const;

 private:
  Ed25519PrivateKey identity_;
  AgentOptions options_;
  TaskRunner runner_;
  std::atomic<uint64_t> connects_{0}, started_{0}, finished_{0};
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_AGENT_H_
