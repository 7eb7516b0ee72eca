// Coordinator: the control-plane service. One bus (a CURVE ROUTER on
// ZeroMQ) for workers and clients, the Cluster state machine, and the
// ledger, which records every submission and placement.
//
// Threads: the bus thread runs every handler and the Cluster tick (so the
// Cluster needs no locks); ledger appends are asynchronous (the Log's
// committer thread). Stats are atomics, readable from any thread.
//
// Jobs and their logs are kept in DIR/state.db (JobStore): a restarted
// coordinator requeues the jobs that were running and carries on.
#ifndef CAIRN_COORDINATOR_COORDINATOR_H_
#define CAIRN_COORDINATOR_COORDINATOR_H_

#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ledger/log.h"
#include "runtime/base/histogram.h"
#include "runtime/wire/base_handlers.h"
#include "scheduler/cluster.h"
#include "coordinator/job_store.h"
#include "coordinator/artifact_index.h"
#include "coordinator/api_keys.h"
#include "coordinator/balances.h"
#include "scheduler/gateway.h"
#include "coordinator/rendezvous.h"
#include "runtime/base/mutex.h"

namespace cairn::coordinator {

using scheduler::Cluster;
using scheduler::ClusterEvent;
using scheduler::ClusterOptions;
using scheduler::Device;
using scheduler::Gateway;
using scheduler::JobKind;
using scheduler::JobKindName;
using scheduler::JobRecord;
using scheduler::JobSpec;
using scheduler::JobState;
using scheduler::JobStateName;
using scheduler::ParseJobSpec;
using scheduler::ReplicaInfo;
using scheduler::Usage;
using scheduler::WorkerState;

struct CoordinatorOptions {
  std::string data_dir;                     // ledger (created if absent) and the coordinator's key
  std::string bus = "tcp://127.0.0.1:0";    // where workers and clients connect
  wire::Enrollment enrollment = wire::Enrollment::kOpen;
  std::vector<std::string> allow;           // Ed25519 public keys (raw) for the allow-list
  ClusterOptions cluster;
  int tick_ms = 250;
};

struct CoordinatorStats {
  uint64_t heartbeats = 0;
  uint64_t placements = 0;
  uint64_t workers_alive = 0;
  uint64_t workers_dead = 0;
  uint64_t queue_depth = 0;
};

class Coordinator {
 public:
  static StatusOr<std::unique_ptr<Coordinator>> Start(CoordinatorOptions options);
  ~Coordinator();  // stops the bus and waits for ledger writes

  const std::string& endpoint() const { return server_->endpoint(); }
  // The coordinator's CURVE public key (raw), which clients pin.
  const std::string& curve_public_key() const { return server_->public_key(); }
  ledger::Log& ledger() { return *log_; }
  CoordinatorStats stats() const;
  // Checkpoints (where a requeued job resumes) and registered models, as
  // workers reported them in their signed entries. Any thread.
  ArtifactIndex& artifacts() { return *artifacts_; }
  // The inference gateway: serve tasks' replicas, routes for the HTTP port.
  Gateway& gateway() { return gateway_; }
  // Balances replayed from the ledger and kept current (payout rules are
  // checked before an entry is appended).
  const Balances& balances() const { return balances_; }
  // The operator credits an account: an accountCredited entry signed with
  // the log key, appended before this returns (its index). Any thread.
  StatusOr<uint64_t> Credit(const std::string& account, uint64_t micros, const std::string& memo);
  // The operator's (log key's) public key, raw.
  const std::string& operator_key() const { return key_->public_key().bytes(); }
  ApiKeys& api_keys() { return *api_keys_; }
  // Training progress from accepted step receipts, in Prometheus text
  // (cairn_train_round, cairn_train_loss, cairn_train_samples_total per
  // job, cairn_step_receipts_total). Any thread.
  std::string TrainingMetrics() const;
  // Time of each scheduling pass that placed at least one job (seconds).
  const Histogram& placement_latency() const { return placement_latency_; }

 private:
  struct JobLog {
    std::vector<std::string> lines;
  };
  explicit Coordinator(CoordinatorOptions options) : options_(std::move(options)) {}
  Status OnHello(const wire::Peer& peer, const wire::WorkerHello& hello, const std::string& id);
  Status OnHeartbeat(const std::string& id);
  wire::HandlerResult OnClient(const wire::Peer& peer, const wire::ClientRequest& req);
  wire::HandlerResult OnTaskUpdate(const wire::Peer& peer, const wire::TaskUpdate& update);
  wire::HandlerResult OnGoodbye(const wire::Peer& peer, const wire::Goodbye& bye);
  // Checks a worker-signed ledger entry (signer, type, job, placement) and
  // appends it; a checkpoint also becomes the job's resume point.
  Status AcceptReceipt(const std::string& worker, const std::string& job_id, const std::string& entry);
  void Tick();
  void FlushUsage();
  void Apply(const std::vector<ClusterEvent>& events);
  void Record(const std::string& what, const ledger::BodyFiller& fill);
  void Log(const std::string& job_id, const std::string& line);
  void Persist(const std::string& job_id);
  wire::JobInfo Info(const JobRecord& j) const;

  CoordinatorOptions options_;
  std::optional<Ed25519PrivateKey> key_;  // the data dir's log.key, set by Start
  Balances balances_;                      // the log's admission policy: outlives it
  std::unique_ptr<ledger::Log> log_;
  std::unique_ptr<wire::WireContext> context_;
  std::unique_ptr<wire::WireServer> server_;
  std::unique_ptr<wire::BaseHandlers> base_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<JobStore> store_;
  std::thread bus_thread_;

  // Bus-thread state.
  std::map<std::string, std::string> routing_by_worker_;
  std::map<std::string, std::string> name_by_worker_;
  std::map<std::string, std::string> key_by_worker_;  // id -> Ed25519 public key (the ledger account)
  std::map<std::string, JobLog> logs_;
  std::map<std::string, std::string> spec_text_;  // job id -> YAML

  RendezvousHost rendezvous_;
  std::unique_ptr<ArtifactIndex> artifacts_;
  Gateway gateway_;
  std::unique_ptr<ApiKeys> api_keys_;
  int64_t last_usage_flush_ms_ = 0;  // bus thread
  struct Progress {
    uint64_t round = 0, samples = 0, receipts = 0;
    double loss = 0;
  };
  mutable Mutex progress_mu_;
  std::map<std::string, Progress> progress_ GUARDED_BY(progress_mu_);
  std::atomic<uint64_t> heartbeats_{0}, placements_{0}, alive_{0}, dead_{0}, queue_{0};
  Histogram placement_latency_{{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1}};
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_COORDINATOR_H_
