// Coordinator: the control-plane service. One bus (a CURVE ROUTER on
// ZeroMQ) for workers and clients, the Cluster state machine, the ledger
// and what is derived from it, and the dataset registry. The HTTP side is
// assembled by CoordinatorServer (coordinator/coordinator_server.h).
//
// The contract, for the money path (docs/control-plane.md, "Delivery"):
//  - Workers' signed entries (receipts, checkpoints, models) are checked
//    (coordinator/receipt_policy.h) and appended idempotently: one already
//    in the ledger is acknowledged without a second entry; a different
//    receipt for the same (job, attempt, round, worker) is refused. The Ack
//    goes out only once the entry is durable, so a worker never forgets
//    something the ledger does not hold.
//  - Balances, checkpoints, models, datasets and receipt identities change
//    only after the log committed (its on_commit hook), and all of them are
//    rebuilt from the ledger at start (LedgerView, Balances).
//  - Fail-stop: when the ledger's store fails, the log refuses every append
//    (ledger/log.h); the coordinator keeps answering reads, acknowledges
//    nothing new ("try again later"), and ready() reports the error
//    (/readyz 503). A restart reloads what the store holds.
//  - A job is queued once its jobSubmitted entry is durable; workers get an
//    assignment only once its jobPlaced entry is. Assignments and
//    revocations are reconciled against every heartbeat (scheduler/cluster.h).
//  - A restart re-adopts running jobs from DIR/state.db: workers keep
//    training through a coordinator restart.
//
// Threads: the bus thread runs every handler and the Cluster tick (so the
// Cluster needs no locks); ledger commits arrive on the log's committer
// thread and are handed to the bus thread (WireServer::Post). Public
// methods are safe from any thread unless noted.
#ifndef CAIRN_COORDINATOR_COORDINATOR_H_
#define CAIRN_COORDINATOR_COORDINATOR_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "coordinator/api_keys.h"
#include "coordinator/audit_book.h"
#include "coordinator/balances.h"
#include "coordinator/ledger_view.h"
#include "coordinator/rendezvous_host.h"
#include "coordinator/state_store.h"
#include "data/dataset_registry.h"
#include "ledger/log.h"
#include "ledger/payouts.h"
#include "runtime/base/clock.h"
#include "runtime/base/metrics.h"
#include "runtime/base/mutex.h"
#include "runtime/wire/base_handlers.h"
#include "scheduler/cluster.h"
#include "scheduler/estimate.h"
#include "scheduler/gateway.h"

namespace cairn::coordinator {

using scheduler::Cluster;
using scheduler::ClusterEvent;
using scheduler::ClusterOptions;
using scheduler::Gateway;
using scheduler::JobKind;
using scheduler::JobSpec;

struct CoordinatorOptions {
  std::string data_dir;                     // ledger (created if absent), state.db, blobs/
  std::string bus = "tcp://127.0.0.1:0";    // where workers and clients connect
  wire::Enrollment enrollment = wire::Enrollment::kOpen;
  std::vector<std::string> allow;           // Ed25519 public keys (raw) for the allow-list
  ClusterOptions cluster;
  int tick_ms = 250;
  const Clock* clock = Clock::System();     // leases, heartbeats, entry timestamps, the gateway
  RendezvousOptions rendezvous;             // where multi-worker jobs meet (in this process by default)
  // Verification (docs/verification.md).
  int64_t audit_wait_ms = 10'000;           // a round is audited once all its receipts are in, or this long after one
  uint32_t answer_seconds = 120;            // how long a challenged worker has to disclose its state
  int64_t verify_wait_ms = 600'000;         // a challenge no verifier took by then is "not comparable"
  int64_t no_verifier_grace_ms = 10'000;    // ...at once, if no other worker has the profile, after this
  // Tests: wraps the ledger's store (fault injection).
  std::function<std::unique_ptr<ledger::LedgerStore>(std::unique_ptr<ledger::LedgerStore>)> wrap_store;
};

struct CoordinatorStats {
  uint64_t heartbeats = 0;
  uint64_t placements = 0;
  uint64_t workers_alive = 0;
  uint64_t workers_dead = 0;
  uint64_t queue_depth = 0;
  uint64_t entries_acked = 0;       // worker entries acknowledged (appended now or before)
  uint64_t entries_duplicate = 0;   // of those, resends of entries already in the ledger
  uint64_t entries_refused = 0;
};

class Coordinator {
 public:
  static StatusOr<std::unique_ptr<Coordinator>> Start(CoordinatorOptions options);
  ~Coordinator();  // stops the bus and waits for ledger writes

  const std::string& endpoint() const { return server_->endpoint(); }
  // The coordinator's CURVE public key (raw), which clients pin.
  const std::string& curve_public_key() const { return server_->public_key(); }
  ledger::Log& ledger() { return *log_; }
  // OK while the ledger accepts entries; its sticky error after a store failure.
  Status ready() const { return log_->health(); }
  CoordinatorStats stats() const;
  const LedgerView& view() const { return view_; }
  const Balances& balances() const { return balances_; }
  data::DatasetRegistry& datasets() { return *datasets_; }
  Gateway& gateway() { return *gateway_; }
  ApiKeys& api_keys() { return *api_keys_; }
  const Clock* clock() const { return options_.clock; }
  // The exact spec text a job was submitted with (HTTP thread safe).
  StatusOr<std::string> SpecText(const std::string& job_id) const { return store_->SpecText(job_id); }
  // The operator credits an account: an accountCredited entry signed with
  // the log key, appended before this returns (its index).
  StatusOr<uint64_t> Credit(const std::string& account, uint64_t micros, const std::string& memo);
  // The operator's (log key's) public key, raw.
  const std::string& operator_key() const { return key_->public_key().bytes(); }
  // Every metric of this process (the gateway's included), for /metrics.
  MetricsRegistry& metrics() { return metrics_; }

 private:
  // A worker entry being appended: whom to answer once it is durable.
  struct PendingEntry {
    std::string worker, job_id, hash;
    uint64_t sequence = 0;
    std::optional<ReceiptId> receipt;  // a step receipt's identity
    uint64_t checkpoint_round = 0;     // a checkpoint's round
    uint32_t checkpoint_attempt = 0;
    std::optional<ledger::ChallengeKey> verdict;  // a verdict's round
    std::string verdict_result;
  };
  explicit Coordinator(CoordinatorOptions options) : options_(std::move(options)) {}
  Status OpenLedger();
  Status RestoreJobs();
  void RegisterMetrics();
  void InstallHandlers();

  // Bus thread.
  Status OnHello(const wire::Peer& peer, const wire::WorkerHello& hello, const std::string& id);
  Status OnHeartbeat(const wire::Heartbeat& hb, const std::string& id);
  wire::HandlerResult OnClient(const wire::Peer& peer, const wire::ClientRequest& req);
  wire::HandlerResult OnSubmit(const wire::Peer& peer, uint64_t request_id, const wire::SubmitBody& submit);
  // Training money (coordinator/job_money.cc).
  struct Resolved {  // what a spec names, looked up here
    std::vector<std::string> dataset_ids;           // raw, in the spec's order
    std::vector<scheduler::DatasetFacts> datasets;  // the same, for the estimate
    std::string parent_model;                       // raw hash, "" for none
    uint64_t finetune_fee = 0;
  };
  StatusOr<Resolved> Resolve(const JobSpec& spec) const;
  // The placement `spec` would get now and what it would cost.
  wire::EstimateReply Estimate(const JobSpec& spec, const Resolved& r, const std::string& caller_key) const;
  wire::HandlerResult OnEstimate(const wire::Peer& peer, uint64_t request_id, const wire::EstimateBody& body);
  wire::HandlerResult OnTopUp(const wire::Peer& peer, uint64_t request_id, const wire::TopUpBody& body);
  // The operator's receiptAccepted for a receipt being appended.
  StatusOr<std::string> AcceptanceOf(const ReceiptId& receipt) const;
  // After an accepted round: stops the job when its escrow cannot pay another.
  void CheckBudget(const std::string& job_id);
  // Appends a jobClosed for every ended job whose escrow is still open.
  void CloseEndedJobs();
  // Appends an entry someone else signed; `done` runs on the bus thread.
  Status AppendSigned(std::string entry, std::function<void(StatusOr<uint64_t>)> done);
  wire::HandlerResult OnTaskUpdate(const wire::Peer& peer, const wire::TaskUpdate& update);
  wire::HandlerResult OnGoodbye(const wire::Peer& peer, const wire::Goodbye& bye);
  // A worker-signed entry: acked now (already in the ledger), later (once
  // appended), or refused. Returns the Ack to send now, if any.
  std::optional<wire::Ack> AcceptWorkerEntry(const std::string& worker, const wire::TaskUpdate& update,
                                             const std::string& entry);
  void OnEntryCommitted(const PendingEntry& pending, const Status& result);
  void Tick();
  void FlushUsage();
  // Verification (coordinator/verification.cc).
  // Appends a roundAudited (the cheap checks) for every round whose receipts are in.
  void AuditRounds();
  // A verification task for every open challenge; "not comparable" where none can run.
  void RunChallenges();
  // What a heartbeat answered to `worker` lists: its rounds still to disclose.
  std::vector<wire::Challenge> ChallengesFor(const std::string& worker);
  // A verdict is durable: a failing one removes the worker and redoes the job.
  void OnVerdictCommitted(const ledger::ChallengeKey& round, const std::string& result, const std::string& verifier);
  // The operator's "not comparable" for a round no verifier could replay.
  void NotComparable(const ledger::ChallengeKey& round, const std::string& why);
  // Whether `worker` may not run (a part of) `job` (the Cluster's exclusion).
  bool Excluded(const scheduler::JobRecord& job, const std::string& worker) const;
  // The verification task replaying `round` ("verify-<hash>").
  static std::string VerifyTaskId(const ledger::ChallengeKey& round);
  // Open challenges of jobs whose verification is still worth running.
  std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> OpenChallenges() const;
  void Apply(std::vector<ClusterEvent> events);
  void Place(const ClusterEvent& e, const std::vector<std::string>& workers, uint32_t first_rank);
  void SendAssign(const std::string& job_id, const std::string& worker);
  // A verification task's placement: a verifierAssigned entry, then the assignment.
  void AssignVerifier(const scheduler::JobRecord& task, const std::string& worker);
  void SendTo(const std::string& worker, const wire::Outgoing& message);
  // The gateway's record of `worker`'s replica of serve job `job` at
  // `endpoint` (host:port), priced as the spec says.
  scheduler::ReplicaInfo ReplicaOf(const scheduler::JobRecord& job, const std::string& worker, const std::string& endpoint,
                                   const std::string& task);
  void Ack(const std::string& worker, const wire::Ack& ack);
  // Appends an entry signed with the log key; `done` (optional) runs on the
  // bus thread once it is durable, or with the error.
  Status Record(const ledger::BodyFiller& fill, std::function<void(StatusOr<uint64_t>)> done = {});
  void Log(const std::string& job_id, const std::string& line);
  void PersistDirty();
  wire::JobInfo Info(const scheduler::JobRecord& j) const;

  CoordinatorOptions options_;
  MetricsRegistry metrics_;                // first: everything below registers in it
  std::optional<Ed25519PrivateKey> key_;  // the data dir's log.key, set by Start
  LedgerView view_{&metrics_};             // committed entries, in log order
  AuditBook audit_;                        // what verification reads from committed entries
  Balances balances_;                      // the log's admission policy and committed balances
  std::unique_ptr<data::DatasetRegistry> datasets_;
  std::unique_ptr<ledger::Log> log_;
  std::unique_ptr<wire::WireContext> context_;
  std::unique_ptr<wire::WireServer> server_;
  std::unique_ptr<wire::BaseHandlers> base_;
  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<ApiKeys> api_keys_;
  std::unique_ptr<Gateway> gateway_;
  std::unique_ptr<RendezvousHost> rendezvous_;
  bool started_ = false;  // Create() completed
  std::thread bus_thread_;

  // Bus-thread state.
  std::map<std::string, std::string> routing_by_worker_;
  std::map<std::string, std::string> name_by_worker_;
  std::map<std::string, std::vector<wire::Device>> gpus_by_worker_;  // CUDA devices from each hello
  std::map<std::string, std::string> key_by_worker_;  // id -> Ed25519 public key (the ledger account)
  std::map<std::string, std::vector<std::string>> logs_;
  std::map<std::string, std::string> spec_text_;      // job id -> YAML
  std::set<std::string> pending_hashes_;               // worker entries appended, not yet committed
  std::set<ReceiptId> pending_receipts_;
  std::set<std::tuple<std::string, uint32_t, std::string>> pending_placements_;  // (job, attempt, worker id)
  int64_t last_usage_flush_ms_ = 0;
  std::set<std::string> close_refused_;               // jobs whose jobClosed the ledger refused (a bug; logged once)
  std::set<std::tuple<std::string, uint32_t, uint64_t>> audits_in_flight_;  // roundAudited appended, not yet committed
  std::set<ledger::ChallengeKey> answers_in_flight_;  // operator verdicts appended, not yet committed
  std::set<std::pair<std::string, std::string>> removed_;  // (job, worker key) a failing verdict removed (handled once)
  std::vector<std::pair<ledger::ChallengeKey, ledger::ChallengeState>> open_challenges_;  // refreshed each tick
  std::map<std::string, double> flops_per_step_;      // job -> its model's FLOPs per step (the speed check)
  int64_t last_reputation_ms_ = 0;
  std::map<std::string, int64_t> ended_ms_;           // job -> when the close sweep first saw it ended (monotonic)
  static constexpr int64_t kCloseGraceMs = 3000;

  std::atomic<uint64_t> heartbeats_{0}, placements_{0}, alive_{0}, dead_{0}, queue_{0};
  std::atomic<uint64_t> acked_{0}, duplicates_{0}, refused_{0};
  prometheus::Histogram& placement_latency_ =
      metrics_.Histogram("cairn_placement_latency_seconds", "Time of a scheduling pass that placed at least one job.",
                         {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1});
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_COORDINATOR_H_
