// Carrying out what the Cluster decided: placements recorded in the ledger
// before anyone is assigned, assignments and revocations sent (and sent
// again by reconciliation), and the coordinator's own ledger entries
// (placements, metered usage, credits).
#include <algorithm>

#include "coordinator/coordinator.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "train/seat.h"

namespace cairn::coordinator {

using wire::MakeOutgoing;

void Coordinator::SendTo(const std::string& worker, const wire::Outgoing& message) {
  auto it = routing_by_worker_.find(worker);
  if (it != routing_by_worker_.end()) (void)server_->SendTo(it->second, message);
}

Status Coordinator::Record(const ledger::BodyFiller& fill, std::function<void(StatusOr<uint64_t>)> done) {
  ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(*key_, options_.clock->NowUnixMillis(), fill));
  return log_->AppendAsync({std::move(entry)}, [this, done = std::move(done)](StatusOr<uint64_t> r) {
    if (!r.ok()) CAIRN_LOG_ERROR("ledger: an entry of the coordinator's was not stored: {}", r.status().ToString());
    if (done) server_->Post([done, r] { done(r); });
  });
}

// One jobPlaced entry for `workers` (ranks from `first_rank`); each is
// assigned once it is durable.
void Coordinator::Place(const ClusterEvent& e, const std::vector<std::string>& workers, uint32_t first_rank) {
  auto job = cluster_->Job(e.job_id);
  if (job.ok() && job->spec.kind == JobKind::kVerify && !workers.empty()) return AssignVerifier(*job, workers[0]);
  std::vector<std::string> keys;
  std::vector<uint64_t> prices;
  for (const std::string& w : workers) {
    keys.push_back(key_by_worker_[w]);
    auto it = cluster_->workers().find(w);
    prices.push_back(it == cluster_->workers().end() ? 0 : it->second.state.price_per_hour_micros);
    pending_placements_.insert({e.job_id, e.attempt, w});
  }
  const std::string job_id = e.job_id;
  const uint32_t attempt = e.attempt;
  Status s = Record(
      [&](ledger::schema::LedgerEntry::Body::Builder b) {
        auto p = b.initJobPlaced();
        p.setJobId(job_id);
        p.setAttempt(attempt);
        auto ws = p.initWorkers(static_cast<unsigned>(workers.size()));
        for (unsigned r = 0; r < workers.size(); ++r) {
          ws[r].setWorker(ledger::AsData(keys[r]));
          ws[r].setRank(first_rank + r);
          ws[r].setPricePerHourMicros(prices[r]);
        }
      },
      [this, job_id, attempt, workers](StatusOr<uint64_t> index) {
        for (const std::string& w : workers) pending_placements_.erase({job_id, attempt, w});
        if (!index.ok()) {
          Log(job_id, "placement not recorded (the ledger stopped): " + index.status().ToString());
          return;
        }
        for (const std::string& w : workers) SendAssign(job_id, w);
      });
  if (!s.ok()) {
    for (const std::string& w : workers) pending_placements_.erase({job_id, attempt, w});
    Log(job_id, "placement not recorded: " + s.ToString());
  }
}

// Sends `worker` its assignment for the job's current attempt, if that
// placement is in the ledger; records it first if it is not (a placement
// lost to a restart before its entry was written).
void Coordinator::SendAssign(const std::string& job_id, const std::string& worker) {
  auto job = cluster_->Job(job_id);
  auto plan = cluster_->PlanFor(job_id, worker);
  if (!job.ok() || !plan.ok()) return;  // no longer wanted
  if (pending_placements_.count({job_id, job->attempt, worker})) return;  // its commit sends it
  if (!view_.Placed(job_id, job->attempt, key_by_worker_[worker])) {
    // The ledger has stopped: nothing can be placed until a restart (its
    // health is on /readyz); do not retry, and log, on every heartbeat.
    if (!log_->health().ok()) return;
    ClusterEvent e{ClusterEvent::kJoined, job_id, worker, {worker}, job->attempt, 0, ""};
    Place(e, {worker}, plan->rank);
    return;
  }
  const bool meets = plan->world > 1 && job->spec.kind == JobKind::kTrain;
  wire::TaskAssign a{job_id, job->attempt, plan->rank, plan->world, spec_text_[job_id], plan->resume_round, {},
                     meets ? ":" + std::to_string(rendezvous_->port()) : "", plan->joining, "", "", operator_key()};
  if (meets) {
    // Only placed workers learn where the attempt's keys live, and each gets
    // the operator's ticket for its seat (train/seat.h).
    a.secret = train::RendezvousSecret(*key_, job_id, job->attempt).value_or("");
    a.seat_ticket = train::SignSeat(*key_, job_id, job->attempt, plan->rank, key_by_worker_[worker]).value_or("");
  }
  SendTo(worker, MakeOutgoing(a));
}

void Coordinator::Apply(std::vector<ClusterEvent> events) {
  for (const ClusterEvent& e : events) {
    switch (e.kind) {
      case ClusterEvent::kPlaced: {
        placements_.fetch_add(1);
        Place(e, e.workers, 0);
        std::string names;
        for (const auto& w : e.workers) names += (names.empty() ? "" : ", ") + w.substr(0, 8);
        Log(e.job_id, "placed (attempt " + std::to_string(e.attempt) + ") on " + names +
                          (e.resume_round ? ", resuming from round " + std::to_string(e.resume_round) : ""));
        break;
      }
      case ClusterEvent::kJoined: {
        // A free worker tops up a running elastic job: a training worker
        // meets the others at the attempt's store and is taken in at the next
        // round boundary; a serve replica just starts.
        Place(e, {e.worker_id}, e.uid);
        auto job = cluster_->Job(e.job_id);
        const bool serve = job.ok() && job->spec.kind == JobKind::kServe;
        Log(e.job_id, "adding " + e.worker_id.substr(0, 8) +
                          (serve ? " as a replica" : " (uid " + std::to_string(e.uid) + "); it joins at the next round"));
        break;
      }
      case ClusterEvent::kAssign:
        SendAssign(e.job_id, e.worker_id);
        break;
      case ClusterEvent::kRevoked:
        gateway_->RemoveReplica(e.job_id, e.worker_id);
        SendTo(e.worker_id, MakeOutgoing(wire::TaskRevoke{e.job_id, e.attempt, e.message}));
        break;
      case ClusterEvent::kJobRequeued:
        gateway_->RemoveJob(e.job_id);
        Log(e.job_id, "job requeued: " + e.message);  // a lost worker, a transient failure, a failing verdict
        break;
      case ClusterEvent::kJobFailed:
        gateway_->RemoveJob(e.job_id);
        Log(e.job_id, "job failed: " + e.message);  // however it ended (a task's result, a lost worker, retries spent)
        break;
      case ClusterEvent::kWorkerDropped: {
        Log(e.job_id, e.message);
        auto job = cluster_->Job(e.job_id);
        if (job.ok() && job->spec.kind == JobKind::kTrain) {
          rendezvous_->MarkGone(e.job_id, e.attempt, e.uid, train::RendezvousSecret(*key_, e.job_id, e.attempt).value_or(""));
        }
        break;
      }
      case ClusterEvent::kWorkerDied:
        gateway_->RemoveWorker(e.worker_id);
        CAIRN_LOG_WARN("worker {} lost: {}", e.worker_id, e.message);
        break;
    }
  }
  PersistDirty();
}

// At least once a second: one inferenceUsage entry per (model, consumer,
// worker) with what the gateway metered since the last flush. What a
// consumer owes stays held against its credits until its entry is durable.
void Coordinator::FlushUsage() {
  const int64_t now = options_.clock->NowUnixMillis();
  if (now - last_usage_flush_ms_ < 1000) return;
  last_usage_flush_ms_ = now;
  for (const scheduler::Usage& u : gateway_->meter().Take()) {
    Status s = Record(
        [&](ledger::schema::LedgerEntry::Body::Builder b) {
          auto e = b.initInferenceUsage();
          e.setModel(ledger::AsData(u.model_hash));
          e.setConsumer(ledger::AsData(u.consumer));
          e.setWorker(ledger::AsData(u.worker_key));
          e.setRequests(u.requests);
          e.setTokens(u.tokens);
          e.setChargeMicros(u.charge_micros);
          e.setWindowStartUnixMillis(u.window_start_ms);
          e.setWindowEndUnixMillis(u.window_end_ms);
          e.setWorkerMicros(u.worker_micros);
        },
        [this, consumer = u.consumer, charge = u.charge_micros](StatusOr<uint64_t> index) {
          // Durable: the committed balance now holds the charge. Not durable
          // (the log stopped): it stays held, so the consumer cannot spend it.
          if (index.ok()) gateway_->meter().Settle(consumer, charge);
        });
    if (s.ok()) continue;
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kResourceExhausted) {
      // The log cannot take it now: it goes out with a later flush, and the
      // charge stays held against the consumer's credits meanwhile.
      CAIRN_LOG_WARN("metering: usage of {} kept for the next flush: {}", HexEncode(u.consumer).substr(0, 16), s.ToString());
      gateway_->meter().Restore(u);
    } else {
      // It can never be recorded (the entry cannot be built): the consumer
      // is not charged for it, and it stops holding their credits.
      CAIRN_LOG_ERROR("metering: usage of {} ({} micro-credits) dropped: {}", HexEncode(u.consumer).substr(0, 16),
                      u.charge_micros, s.ToString());
      gateway_->meter().Settle(u.consumer, u.charge_micros);
    }
  }
}

StatusOr<uint64_t> Coordinator::Credit(const std::string& account, uint64_t micros, const std::string& memo) {
  if (account.size() != 32) return InvalidArgumentError("an account is a 32-byte Ed25519 public key (64 hex digits)");
  if (micros == 0) return InvalidArgumentError("the amount must be positive");
  ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(*key_, options_.clock->NowUnixMillis(),
                                                        [&](ledger::schema::LedgerEntry::Body::Builder b) {
                                                          auto c = b.initAccountCredited();
                                                          c.setAccount(ledger::AsData(account));
                                                          c.setAmountMicros(micros);
                                                          c.setMemo(memo);
                                                        }));
  return log_->Append(std::move(entry));
}

}  // namespace cairn::coordinator
