// The coordinator's side effects on the ledger and the bus: carrying out
// the Cluster's events (placements, joins, revocations), metering flushes
// and the operator's credits. Split from coordinator.cc to keep each file
// one idea; same class, same threading (the bus thread, except Credit).
#include "coordinator/coordinator.h"

#include <algorithm>
#include <set>

#include "runtime/base/log.h"

namespace cairn::coordinator {

using wire::MakeOutgoing;

// At least once a second: one inferenceUsage entry per (model, consumer,
// worker) with what the gateway metered since the last flush.
void Coordinator::FlushUsage() {
  const int64_t now = Clock::System()->NowUnixMillis();
  if (now - last_usage_flush_ms_ < 1000) return;
  last_usage_flush_ms_ = now;
  for (const Usage& u : gateway_.meter().Take()) {
    Record("inferenceUsage", [&](ledger::schema::LedgerEntry::Body::Builder b) {
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
    });
    gateway_.meter().Settle(u.consumer, u.charge_micros);  // admitted (or refused) by now: balances hold it
  }
}

StatusOr<uint64_t> Coordinator::Credit(const std::string& account, uint64_t micros, const std::string& memo) {
  if (account.size() != 32) return InvalidArgumentError("an account is a 32-byte Ed25519 public key (64 hex digits)");
  if (micros == 0) return InvalidArgumentError("the amount must be positive");
  ASSIGN_OR_RETURN(std::string entry, ledger::MakeEntry(*key_, Clock::System()->NowUnixMillis(),
                                                        [&](ledger::schema::LedgerEntry::Body::Builder b) {
                                                          auto c = b.initAccountCredited();
                                                          c.setAccount(ledger::AsData(account));
                                                          c.setAmountMicros(micros);
                                                          c.setMemo(memo);
                                                        }));
  return log_->Append(std::move(entry));
}

void Coordinator::Apply(const std::vector<ClusterEvent>& events) {
  // One save per job touched, however many events (a lost gang member gives
  // one revocation per rank plus the requeue).
  std::set<std::string> touched;
  for (const ClusterEvent& e : events) {
    if (!e.job_id.empty()) touched.insert(e.job_id);
  }
  for (const std::string& id : touched) Persist(id);
  for (const ClusterEvent& e : events) {
    switch (e.kind) {
      case ClusterEvent::kPlaced: {
        placements_.fetch_add(1);
        // Several workers meet at a store this coordinator hosts, one per attempt.
        std::string rendezvous;
        rendezvous_.Close(e.job_id);
        auto placed_job = cluster_->Job(e.job_id);
        if (e.workers.size() > 1 && placed_job.ok() && placed_job->spec.kind == JobKind::kTrain) {
          auto port = rendezvous_.Open(e.job_id, e.attempt);
          if (port.ok()) {
            rendezvous = ":" + std::to_string(*port);
          } else {
            Log(e.job_id, "rendezvous store failed: " + port.status().ToString());
          }
        }
        Record("jobPlaced", [&](ledger::schema::LedgerEntry::Body::Builder b) {
          auto p = b.initJobPlaced();
          p.setJobId(e.job_id);
          p.setAttempt(e.attempt);
          auto ws = p.initWorkers(static_cast<unsigned>(e.workers.size()));
          for (unsigned r = 0; r < e.workers.size(); ++r) {
            ws[r].setWorker(ledger::AsData(key_by_worker_[e.workers[r]]));
            ws[r].setRank(r);
            ws[r].setPricePerHourMicros(cluster_->workers().at(e.workers[r]).state.price_per_hour_micros);
          }
        });
        for (uint32_t r = 0; r < e.workers.size(); ++r) {
          auto it = routing_by_worker_.find(e.workers[r]);
          if (it == routing_by_worker_.end()) continue;
          wire::TaskAssign a{e.job_id, e.attempt, r, static_cast<uint32_t>(e.workers.size()), spec_text_[e.job_id],
                             e.resume_round, e.workers, rendezvous};
          (void)server_->SendTo(it->second, MakeOutgoing(a));
        }
        std::string names;
        for (const auto& w : e.workers) names += (names.empty() ? "" : ", ") + w.substr(0, 8);
        Log(e.job_id, "placed (attempt " + std::to_string(e.attempt) + ") on " + names +
                          (e.resume_round ? ", resuming from round " + std::to_string(e.resume_round) : ""));
        break;
      }
      case ClusterEvent::kJoined: {
        // A free worker tops up a running elastic job: a training worker meets
        // the others at the attempt's store and is taken in at the next round
        // boundary; a serve replica just starts.
        auto job = cluster_->Job(e.job_id);
        if (!job.ok()) break;
        const bool serve = job->spec.kind == JobKind::kServe;
        std::string rendezvous;
        if (!serve) {
          auto port = rendezvous_.Open(e.job_id, e.attempt);
          if (!port.ok()) {
            Log(e.job_id, "rendezvous store failed: " + port.status().ToString());
            break;
          }
          rendezvous = ":" + std::to_string(*port);
        }
        Record("jobPlaced", [&](ledger::schema::LedgerEntry::Body::Builder b) {
          auto p = b.initJobPlaced();
          p.setJobId(e.job_id);
          p.setAttempt(e.attempt);
          auto ws = p.initWorkers(1);
          ws[0].setWorker(ledger::AsData(key_by_worker_[e.worker_id]));
          ws[0].setRank(e.uid);
          ws[0].setPricePerHourMicros(cluster_->workers().at(e.worker_id).state.price_per_hour_micros);
        });
        auto it = routing_by_worker_.find(e.worker_id);
        if (it != routing_by_worker_.end()) {
          wire::TaskAssign a = serve ? wire::TaskAssign{e.job_id, e.attempt, 0, 1, spec_text_[e.job_id], 0, {}, ""}
                                     : wire::TaskAssign{e.job_id, e.attempt, e.uid, job->spec.workers, spec_text_[e.job_id],
                                                        0, {}, rendezvous, true};
          (void)server_->SendTo(it->second, MakeOutgoing(a));
        }
        Log(e.job_id, "adding " + e.worker_id.substr(0, 8) + (serve ? " as a replica" : " (uid " + std::to_string(e.uid) +
                                                                        "); it joins at the next round"));
        break;
      }
      case ClusterEvent::kRevoked: {
        gateway_.RemoveJob(e.job_id);
        auto it = routing_by_worker_.find(e.worker_id);
        if (it != routing_by_worker_.end()) {
          (void)server_->SendTo(it->second, MakeOutgoing(wire::TaskRevoke{e.job_id, e.attempt, e.message}));
        }
        break;
      }
      case ClusterEvent::kJobRequeued:
      case ClusterEvent::kJobFailed:
        gateway_.RemoveJob(e.job_id);
        Log(e.job_id, e.message);
        break;
      case ClusterEvent::kWorkerDropped:
        Log(e.job_id, e.message);
        break;
      case ClusterEvent::kWorkerDied:
        gateway_.RemoveWorker(e.worker_id);
        CAIRN_LOG_WARN("worker {} lost: {}", e.worker_id, e.message);
        break;
    }
  }
}

}  // namespace cairn::coordinator
