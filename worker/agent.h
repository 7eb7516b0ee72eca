// WorkerAgent: the worker side of the bus protocol (docs/wire.md). It says
// hello with the worker's signed identity, heartbeats, and re-registers when
// the coordinator goes silent or forgets it (Paranoid Pirate); the ZeroMQ
// socket reconnects by itself. Each assigned task runs on its own thread
// through a TaskRunner.
//
// Delivery (docs/wire.md, "Delivery"):
//  - Worker -> coordinator: everything that carries money or state goes
//    through the durable Outbox and is sent stop-and-wait until the
//    coordinator acknowledges it, across reconnects and restarts of either
//    side. Log lines are best effort.
//  - Coordinator -> worker: every hello and heartbeat lists the tasks this
//    worker holds (running, or ended with the TaskFinished unacknowledged).
//    The coordinator reconciles against that list: an assignment not listed
//    is sent again, a listed task it does not want is revoked again. So
//    assignments and revocations are acknowledged by the next heartbeat and
//    retried until they are. Duplicates are harmless here: an assignment of
//    a (job, attempt) this worker runs, ran or was told to drop is ignored.
//  - A coordinator restart does not stop tasks: the new hello lists them and
//    the coordinator re-adopts what it still wants.
//
// The bus thread never blocks on a task: revoking sets its cancel flag and
// the thread is reaped once it has returned. Any exception a runner throws
// becomes an Internal status in its TaskFinished.
// Thread safety: Run() blocks its caller; `stop` may be set from any thread;
// stats() from any thread.
#ifndef CAIRN_WORKER_AGENT_H_
#define CAIRN_WORKER_AGENT_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/wire/messages.h"
#include "worker/outbox.h"

namespace cairn::worker {

// What a running task may send, from the task's thread.
struct TaskIo {
  // A line for `cairn logs` (best effort).
  std::function<void(const std::string& line)> log;
  // A ledger entry this worker signed (receipt, checkpoint, model) for the
  // coordinator to check and append; `blob` (may be empty) is uploaded to
  // the coordinator's blob store first. Durable once this returns OK.
  std::function<Status(const std::string& signed_entry, std::string blob)> receipt;
  // A serve task's replica listens at `endpoint` (host:port), serving `task`.
  std::function<Status(const std::string& endpoint, const std::string& task)> serving;
};

// Runs one task to the end. `cancel` becomes true when the lease is revoked
// or the worker stops; the runner should return soon after (a training
// task: within one step). Returns the message for TaskFinished (OK) or why
// it failed, with a code the scheduler decides retries from.
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
  const Clock* clock = Clock::System();
  int hello_retry_ms = 1000;    // hello again while no Welcome came
  int resend_ms = 2000;         // the outbox head is sent again when unacknowledged this long
  int drain_ms = 2000;          // on stop: time to deliver what the outbox holds before saying goodbye
  size_t max_log_lines = 10000; // log lines queued while the coordinator is away (older ones are dropped)
  std::string profile;          // determinism profile, in the hello
  bool verify_only = false;     // takes verification tasks only
  // The coordinator's heartbeats list the rounds of this worker's it must
  // disclose (docs/verification.md); called on the bus thread with each
  // non-empty list: it must not block.
  std::function<void(const std::vector<wire::Challenge>&)> on_challenges;
};

struct AgentStats {
  uint64_t registrations = 0;   // Welcomes received
  uint64_t tasks_started = 0;
  uint64_t tasks_finished = 0;
  uint64_t outbox_sent = 0;     // sends of outbox records (resends included)
  uint64_t outbox_acked = 0;
  uint64_t outbox_refused = 0;  // acked with a permanent error
  uint64_t duplicate_assigns = 0;
};

class WorkerAgent {
 public:
  // `outbox` outlives the agent.
  WorkerAgent(Ed25519PrivateKey identity, AgentOptions options, Outbox* outbox, TaskRunner runner);
  // Serves until `stop` is true, then cancels its tasks, drains the outbox
  // for up to drain_ms, says goodbye and waits for the task threads. Errors
  // only for what retrying cannot fix (bad keys); a lost coordinator is
  // retried forever.
  Status Run(const std::atomic<bool>& stop);
  AgentStats stats() const;

 private:
  struct Loop;
  Ed25519PrivateKey identity_;
  AgentOptions options_;
  Outbox* outbox_;
  TaskRunner runner_;
  std::atomic<uint64_t> registrations_{0}, started_{0}, finished_{0}, sent_{0}, acked_{0}, refused_{0}, dup_{0};
};

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_AGENT_H_
