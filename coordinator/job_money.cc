// Training money on the coordinator's side (docs/ledger.md, "Payouts"):
// what a spec resolves to and would cost, licences checked at submit,
// top-ups, the operator's acceptance of each receipt, budget exhaustion,
// and jobClosed for every job that ended.
#include <algorithm>

#include "coordinator/coordinator.h"
#include "coordinator/submission.h"
#include "jobspec/licence.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/x25519.h"

namespace cairn::coordinator {
namespace {

using wire::ClientReply;
using wire::ErrorReply;
using wire::HandlerResult;

HandlerResult Reply(uint64_t id, decltype(ClientReply::body) body) {
  return std::optional<wire::Outgoing>(wire::MakeOutgoing(ClientReply{id, std::move(body)}));
}

// A job that ended closes with its state's name as the outcome; "" while it runs.
std::string OutcomeOf(JobState s) {
  return s == JobState::kQueued || s == JobState::kRunning ? "" : JobStateName(s);
}

}  // namespace

StatusOr<Coordinator::Resolved> Coordinator::Resolve(const JobSpec& spec) const {
  Resolved r;
  std::vector<jobspec::LicensedInput> inputs;
  for (const std::string& name : spec.datasets) {
    auto found = datasets_->Find(name);
    if (!found.ok()) return NotFoundError("dataset '" + name + "' is not registered (cairn dataset list)");
    ASSIGN_OR_RETURN(data::Manifest m, datasets_->LoadManifest(name));
    r.dataset_ids.push_back(std::string(DigestView(found->id)));
    scheduler::DatasetFacts f;
    f.name = found->name;
    const data::Split* split = m.FindSplit(m.format == data::Format::kIdx ? "train" : "all");
    f.train_samples = split != nullptr ? split->samples : m.TotalSamples();
    f.price_per_1k_micros = m.price_per_1k_micros;
    f.text = m.format != data::Format::kIdx;
    if (m.rows > 0) f.rows = m.rows;
    if (m.cols > 0) f.cols = m.cols;
    r.datasets.push_back(f);
    inputs.push_back({"dataset", found->name, m.license});
  }
  std::string output_license = spec.output_license;
  bool priced = spec.output_finetune_fee_micros > 0;
  if (!spec.parent_model.empty() || spec.kind == JobKind::kServe) {
    const std::string& name = spec.kind == JobKind::kServe ? spec.model : spec.parent_model;
    auto model = view_.Model(name);
    if (!model) return NotFoundError("model '" + name + "' is not registered (cairn models list)");
    if (spec.kind == JobKind::kServe) {
      // Serving offers the model itself: its licence binds the price asked.
      output_license = model->license;
      priced = spec.price_per_request_micros > 0 || spec.price_per_1k_tokens_micros > 0;
      for (const std::string& id : model->datasets) {  // the registry finds a dataset by its hex id
        auto m = datasets_->LoadManifest(HexEncode(id));
        if (m.ok()) inputs.push_back({"dataset", m->name, m->license});
      }
    } else {
      r.parent_model = model->blob;
      r.finetune_fee = balances_.FinetuneFee(model->blob);
    }
    inputs.push_back({"model", name, model->license});
  }
  if (spec.kind == JobKind::kTrain || spec.kind == JobKind::kServe) {
    RETURN_IF_ERROR(jobspec::CheckLicences(inputs, jobspec::OutputTerms{output_license, priced},
                                           spec.allow_unknown_licenses));
  }
  return r;
}

wire::EstimateReply Coordinator::Estimate(const JobSpec& spec, const Resolved& r, const std::string& caller_key) const {
  wire::EstimateReply e;
  e.datasets = r.dataset_ids;
  e.parent_model = r.parent_model;
  e.available_micros = caller_key.empty() ? 0 : balances_.Available(caller_key);
  std::vector<scheduler::WorkerState> free = cluster_->FreeWorkers();
  scheduler::Placer placer(free);
  auto placed = placer.Place(scheduler::DemandOf(spec, "estimate", 0));
  std::vector<scheduler::WorkerSpeed> speeds;
  if (placed.ok()) {
    for (const std::string& id : *placed) {
      auto it = std::find_if(free.begin(), free.end(), [&](const scheduler::WorkerState& w) { return w.id == id; });
      if (it == free.end()) continue;
      wire::WorkerInfo info;
      info.id = id;
      auto name = name_by_worker_.find(id);
      info.name = name == name_by_worker_.end() ? "" : name->second;
      info.region = it->region;
      info.device = it->device == scheduler::Device::kCuda ? "cuda" : "cpu";
      info.alive = true;
      info.slots = it->free_slots;
      info.tflops = it->tflops;
      info.price_per_hour_micros = it->price_per_hour_micros;
      e.workers.push_back(info);
      speeds.push_back({it->tflops, it->price_per_hour_micros});
    }
  } else {
    e.unplaced = placed.status().message();
  }
  if (spec.kind != JobKind::kTrain) {
    e.basis = std::string(JobKindName(spec.kind)) + " jobs are not paid from a budget";
    return e;
  }
  if (speeds.empty()) {
    // Nothing fits now: estimate on the workers it would wait for, at the
    // price cap (or free), so the data part is still shown.
    for (uint32_t i = 0; i < spec.workers; ++i) speeds.push_back({0, spec.max_price_per_hour_micros});
  }
  auto cost = scheduler::EstimateTrainingCost(spec, r.datasets, speeds, r.finetune_fee);
  if (!cost.ok()) {
    e.refusal = cost.status().message();
    return e;
  }
  e.hours = cost->hours;
  e.samples = cost->samples;
  e.compute_micros = cost->compute_micros;
  e.data_micros = cost->data_micros;
  e.fee_micros = cost->fee_micros;
  e.basis = cost->basis;
  if (spec.budget_micros == 0) {
    e.refusal = "a train job needs a budget (budget: in the spec, or --budget): the estimate is " +
                scheduler::Credits(e.total_micros()) + " (compute " + scheduler::Credits(e.compute_micros) + ", data " +
                scheduler::Credits(e.data_micros) + (e.fee_micros ? ", fine-tuning fee " + scheduler::Credits(e.fee_micros) : "") + ")";
  }
  return e;
}

HandlerResult Coordinator::OnEstimate(const wire::Peer& peer, uint64_t rid, const wire::EstimateBody& body) {
  ASSIGN_OR_RETURN(JobSpec spec, jobspec::ParseJobSpec(body.spec, body.source.empty() ? "job.yaml" : body.source));
  if (spec.kind == JobKind::kVerify) return InvalidArgumentError("kind: verify tasks are made by the coordinator, not submitted");
  ASSIGN_OR_RETURN(Resolved r, Resolve(spec));
  // The caller may name its key (to see its credits); only its own counts.
  std::string caller;
  if (!body.caller_key.empty()) {
    auto curve = X25519PublicFromEd25519Public(body.caller_key);
    if (curve.ok() && *curve == peer.curve_key) caller = body.caller_key;
  }
  return Reply(rid, Estimate(spec, r, caller));
}

HandlerResult Coordinator::OnTopUp(const wire::Peer& peer, uint64_t rid, const wire::TopUpBody& body) {
  RETURN_IF_ERROR(log_->health());
  ASSIGN_OR_RETURN(TopUp t, CheckTopUp(body.entry, peer.curve_key));
  ASSIGN_OR_RETURN(scheduler::JobRecord job, cluster_->Job(t.job_id));
  ASSIGN_OR_RETURN(ledger::JobFunds funds, balances_.AdmittedFunds(t.job_id));
  if (funds.submitter != t.submitter) return PermissionDeniedError("only job " + t.job_id + "'s submitter may add to its budget");
  const int64_t available = balances_.Available(t.submitter);
  if (available < 0 || static_cast<uint64_t>(available) < t.amount_micros) {
    return FailedPreconditionError("not enough credits: " + scheduler::Credits(std::max<int64_t>(0, available)) +
                                   " available, the top-up needs " + scheduler::Credits(t.amount_micros));
  }
  const std::string job_id = t.job_id;
  const std::string routing = peer.routing_id;
  RETURN_IF_ERROR(AppendSigned(body.entry, [this, job_id, rid, routing](StatusOr<uint64_t> index) {
    if (!index.ok()) {
      (void)server_->SendTo(routing, wire::MakeOutgoing(ClientReply{
                                         rid, ErrorReply{static_cast<uint16_t>(index.status().code()),
                                                         index.status().message(), rid}}));
      return;
    }
    auto j = cluster_->Job(job_id);
    if (j.ok()) (void)server_->SendTo(routing, wire::MakeOutgoing(ClientReply{rid, Info(*j)}));
  }));
  // Queued behind the top-up, in log order: the next placement is admitted
  // after it, and the close sweep no longer sees an ended job. A job resumes
  // only once its escrow can pay a round again.
  auto after = balances_.AdmittedFunds(job_id);
  const bool pays = after.ok() && after->escrow() >= after->max_round;
  if (job.state == JobState::kExhausted && pays && cluster_->Resume(job_id).ok()) {
    Log(job_id, "budget topped up by " + scheduler::Credits(t.amount_micros) + ": resuming from round " +
                    std::to_string(job.checkpoint_round));
    PersistDirty();
  } else if (job.state == JobState::kExhausted && after.ok() && !pays) {
    Log(job_id, "budget topped up by " + scheduler::Credits(t.amount_micros) + ", still " +
                    scheduler::Credits(after->max_round - after->escrow()) + " short of a round");
  } else {
    Log(job_id, "budget topped up by " + scheduler::Credits(t.amount_micros));
  }
  return std::optional<wire::Outgoing>();  // answered once durable
}

StatusOr<std::string> Coordinator::AcceptanceOf(const ReceiptId& receipt) const {
  return ledger::MakeEntry(*key_, options_.clock->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto a = b.initReceiptAccepted();
    a.setJobId(std::get<0>(receipt));
    a.setAttempt(std::get<1>(receipt));
    a.setRound(std::get<2>(receipt));
    a.setWorker(ledger::AsData(std::get<3>(receipt)));
  });
}

void Coordinator::CheckBudget(const std::string& job_id) {
  auto job = cluster_->Job(job_id);
  if (!job.ok() || job->spec.kind != JobKind::kTrain) return;
  if (job->state != JobState::kRunning && job->state != JobState::kQueued) return;
  auto f = balances_.AdmittedFunds(job_id);  // a top-up on its way to the store counts
  if (!f.ok() || f->closed || f->max_round == 0 || f->escrow() >= f->max_round) return;
  const std::string why = "budget exhausted: " + scheduler::Credits(f->escrow()) + " left in escrow, a round costs up to " +
                          scheduler::Credits(f->max_round) + "; add budget with `cairn top-up " + job_id +
                          " --amount N` to resume from round " + std::to_string(job->checkpoint_round);
  auto events = cluster_->Suspend(job_id, why);
  if (!events.ok()) return;
  Apply(std::move(*events));
  Log(job_id, why);
  PersistDirty();
}

// A job is closed kCloseGraceMs after it ended, with none of its receipts
// on their way into the ledger: a worker's last receipts (sent before it
// saw the revoke, or held in its outbox through a reconnect) are still paid.
void Coordinator::CloseEndedJobs() {
  if (!log_->health().ok()) return;
  const int64_t now = options_.clock->MonotonicNanos() / 1'000'000;
  for (const auto& job : cluster_->jobs()) {
    const std::string& id = job.first;
    const std::string outcome = OutcomeOf(job.second.state);
    if (outcome.empty()) {
      ended_ms_.erase(id);
      continue;
    }
    if (close_refused_.count(id) || !view_.Submitted(id)) continue;
    auto f = balances_.AdmittedFunds(id);
    if (!f.ok() || f->closed) continue;
    const int64_t ended = ended_ms_.emplace(id, now).first->second;
    auto first = pending_receipts_.lower_bound(ReceiptId{id, 0, 0, ""});
    const bool in_flight = first != pending_receipts_.end() && std::get<0>(*first) == id;
    if (now - ended < kCloseGraceMs || in_flight) continue;
    // Verification still owed: rounds to audit, challenges to answer. Held
    // pay is released at the close, so the job waits for its verdicts (a
    // while: a round no verifier takes is "not comparable" after verify_wait_ms).
    bool owed = false;
    for (const auto& a : audits_in_flight_) owed = owed || std::get<0>(a) == id;
    for (const auto& [round, workers] : balances_.Unaudited()) owed = owed || std::get<0>(round) == id;
    for (const auto& [k, c] : open_challenges_) owed = owed || k.job == id;
    const int64_t owe_limit = options_.verify_wait_ms + static_cast<int64_t>(options_.answer_seconds) * 1000;
    if (owed && now - ended < owe_limit) continue;
    const std::string job_id = id;
    const ledger::JobFunds funds = *f;
    Status s = Record(
        [&](ledger::schema::LedgerEntry::Body::Builder b) {
          auto c = b.initJobClosed();
          c.setJobId(job_id);
          c.setOutcome(outcome);
          c.setBudgetMicros(funds.budget);
          c.setComputeMicros(funds.compute);
          c.setDataMicros(funds.data);
          c.setFeeMicros(funds.fee);
          c.setRefundMicros(funds.escrow());
          c.setVerifyMicros(funds.verify);
          c.setForfeitMicros(funds.forfeited);
        },
        [this, job_id, funds, outcome](StatusOr<uint64_t> index) {
          if (!index.ok()) return;
          Log(job_id, "closed (" + outcome + "): spent " + scheduler::Credits(funds.paid()) + " of " +
                          scheduler::Credits(funds.budget) + " (compute " + scheduler::Credits(funds.compute) + ", data " +
                          scheduler::Credits(funds.data) + ", fees " + scheduler::Credits(funds.fee) + ", verification " +
                          scheduler::Credits(funds.verify) + "), forfeited by cheaters " + scheduler::Credits(funds.forfeited) +
                          ", refunded " +
                          scheduler::Credits(funds.escrow()) + " (ledger entry " + std::to_string(*index) + ")");
        });
    if (!s.ok() && s.code() != StatusCode::kUnavailable) {
      close_refused_.insert(job_id);
      CAIRN_LOG_ERROR("ledger: jobClosed of {} refused: {}", job_id, s.ToString());
    }
  }
}

Status Coordinator::AppendSigned(std::string entry, std::function<void(StatusOr<uint64_t>)> done) {
  return log_->AppendAsync({std::move(entry)}, [this, done = std::move(done)](StatusOr<uint64_t> r) {
    if (done) server_->Post([done, r] { done(r); });
  });
}

}  // namespace cairn::coordinator
