// The client verbs on the bus (`cairn submit`, `jobs`, `status`, `logs`,
// `cancel`, `workers`).
#include "coordinator/coordinator.h"
#include "coordinator/submission.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/sha256.h"
#include "runtime/crypto/x25519.h"

namespace cairn::coordinator {
namespace {

using wire::ClientReply;
using wire::ErrorReply;
using wire::HandlerResult;
using wire::MakeOutgoing;

wire::Outgoing ReplyOf(uint64_t id, decltype(ClientReply::body) body) { return MakeOutgoing(ClientReply{id, std::move(body)}); }
HandlerResult Reply(uint64_t id, decltype(ClientReply::body) body) {
  return std::optional<wire::Outgoing>(ReplyOf(id, std::move(body)));
}
HandlerResult ErrorFor(uint64_t id, const Status& s) {
  return Reply(id, ErrorReply{static_cast<uint16_t>(s.code()), s.message(), id});
}

}  // namespace

wire::JobInfo Coordinator::Info(const scheduler::JobRecord& j) const {
  wire::JobInfo info;
  info.id = j.id;
  info.name = j.spec.name;
  info.kind = JobKindName(j.spec.kind);
  info.state = JobStateName(j.state);
  info.attempt = j.attempt;
  info.retries = j.retries_used;
  info.workers_wanted = j.spec.workers;
  info.workers = j.workers;
  info.message = j.message.substr(0, wire::kMaxErrorMessageBytes);
  info.submitter = j.submitter;
  info.submitted_unix_millis = j.submitted_unix_ms;
  if (auto f = balances_.Funds(j.id); f.ok()) {
    info.budget_micros = f->budget;
    info.spent_micros = f->paid();
    info.refunded_micros = f->refunded;
  }
  return info;
}

// A submission is the submitter's signed jobSubmitted entry over the spec
// (coordinator/submission.h): checked against what this coordinator
// resolves the spec to, then appended unchanged; its budget moves into
// escrow. The job is kept (state.db) first, then the entry appended; the
// reply goes out once that is durable. A submission the ledger refuses
// fails the job and answers the error.
HandlerResult Coordinator::OnSubmit(const wire::Peer& peer, uint64_t rid, const wire::SubmitBody& sub) {
  auto spec = jobspec::ParseJobSpec(sub.spec, sub.source.empty() ? "job.yaml" : sub.source);
  if (!spec.ok()) return ErrorFor(rid, spec.status());
  if (spec->kind == JobKind::kVerify) {
    return ErrorFor(rid, InvalidArgumentError("kind: verify tasks are made by the coordinator for challenged rounds; "
                                              "they cannot be submitted"));
  }
  RETURN_IF_ERROR(log_->health());  // stopped: refuse before anything is kept
  if (sub.entry.empty()) {
    return InvalidArgumentError("the submission carries no jobSubmitted entry signed by its submitter "
                                "(`cairn submit` signs one; an older CLI does not)");
  }
  ASSIGN_OR_RETURN(std::string job_id, SubmissionJobId(sub.entry, spec->name));
  ASSIGN_OR_RETURN(Resolved resolved, Resolve(*spec));
  SubmissionFacts facts{job_id, sub.spec, resolved.dataset_ids, spec->budget_micros, spec->max_price_per_hour_micros,
                        resolved.parent_model, 0, 0, 0};
  SetVerifyTerms(spec->verify, &facts);
  ASSIGN_OR_RETURN(const std::string submitter_key, CheckSubmission(sub.entry, facts, peer.curve_key));
  if (spec->kind == JobKind::kTrain && spec->budget_micros == 0) {
    wire::EstimateReply e = Estimate(*spec, resolved, submitter_key);
    return FailedPreconditionError(e.refusal.empty() ? "a train job needs a budget" : e.refusal);
  }
  if (spec->budget_micros < resolved.finetune_fee) {
    return FailedPreconditionError("the budget of " + scheduler::Credits(spec->budget_micros) +
                                   " does not cover the parent model's fine-tuning fee of " +
                                   scheduler::Credits(resolved.finetune_fee));
  }
  const int64_t available = balances_.Available(submitter_key);
  if (available < 0 || static_cast<uint64_t>(available) < spec->budget_micros) {
    return FailedPreconditionError("not enough credits: " + scheduler::Credits(std::max<int64_t>(0, available)) +
                                   " available, the budget needs " + scheduler::Credits(spec->budget_micros));
  }
  const std::string submitter = HexEncode(submitter_key);
  auto id = cluster_->Submit(*spec, submitter, job_id);
  if (!id.ok()) return ErrorFor(rid, id.status());
  spec_text_[job_id] = sub.spec;
  PersistDirty();
  const std::string routing = peer.routing_id;
  Log(job_id, "submitted by " + submitter.substr(0, 16) + "... (" + std::to_string(spec->workers) + " " +
                  JobKindName(spec->kind) + " workers wanted, budget " + scheduler::Credits(spec->budget_micros) + ")");
  Status recorded = AppendSigned(sub.entry, [this, job_id, rid, routing](StatusOr<uint64_t> index) {
    if (index.ok()) {
      (void)server_->SendTo(routing, ReplyOf(rid, wire::SubmittedBody{job_id}));
      return;
    }
    Apply(cluster_->Cancel(job_id).value_or(std::vector<ClusterEvent>{}));
    Log(job_id, "not accepted: the ledger did not record the submission: " + index.status().ToString());
    PersistDirty();
    (void)server_->SendTo(routing, ReplyOf(rid, ErrorReply{static_cast<uint16_t>(index.status().code()),
                                                           index.status().message(), rid}));
  });
  if (!recorded.ok()) {
    Apply(cluster_->Cancel(job_id).value_or(std::vector<ClusterEvent>{}));
    Log(job_id, "not accepted: " + recorded.ToString());
    PersistDirty();
    return ErrorFor(rid, recorded);
  }
  return std::optional<wire::Outgoing>();  // answered once durable
}

HandlerResult Coordinator::OnClient(const wire::Peer& peer, const wire::ClientRequest& req) {
  uint64_t rid = req.request_id;
  if (const auto* sub = std::get_if<wire::SubmitBody>(&req.body)) {
    auto r = OnSubmit(peer, rid, *sub);
    if (!r.ok()) return ErrorFor(rid, r.status());
    return r;
  }
  if (const auto* est = std::get_if<wire::EstimateBody>(&req.body)) {
    auto r = OnEstimate(peer, rid, *est);
    if (!r.ok()) return ErrorFor(rid, r.status());
    return r;
  }
  if (const auto* top = std::get_if<wire::TopUpBody>(&req.body)) {
    auto r = OnTopUp(peer, rid, *top);
    if (!r.ok()) return ErrorFor(rid, r.status());
    return r;
  }
  if (std::holds_alternative<wire::ListJobsBody>(req.body)) {
    wire::JobsBody body;
    for (const auto& [id, j] : cluster_->jobs()) body.jobs.push_back(Info(j));
    if (body.jobs.size() > wire::kMaxListItems) body.jobs.erase(body.jobs.begin(), body.jobs.end() - wire::kMaxListItems);
    return Reply(rid, std::move(body));
  }
  if (const auto* st = std::get_if<wire::JobStatusBody>(&req.body)) {
    auto j = cluster_->Job(st->job_id);
    if (!j.ok()) return ErrorFor(rid, j.status());
    return Reply(rid, Info(*j));
  }
  if (const auto* lq = std::get_if<wire::JobLogsBody>(&req.body)) {
    auto j = cluster_->Job(lq->job_id);
    if (!j.ok()) return ErrorFor(rid, j.status());
    wire::LogsChunk chunk;
    const auto& lines = logs_[lq->job_id];
    for (uint64_t i = lq->from_line; i < lines.size() && chunk.lines.size() < 1000; ++i) {
      chunk.lines.push_back(lines[i].substr(0, wire::kMaxLogLineBytes));
    }
    chunk.next_line = lq->from_line + chunk.lines.size();
    chunk.finished = (j->state != JobState::kQueued && j->state != JobState::kRunning) && chunk.next_line >= lines.size();
    return Reply(rid, std::move(chunk));
  }
  if (const auto* c = std::get_if<wire::CancelBody>(&req.body)) {
    // Cancelling closes the job and refunds its escrow: only its submitter may.
    if (auto j = cluster_->Job(c->job_id); j.ok()) {
      auto key = HexDecode(j->submitter);
      auto curve = key.ok() && key->size() == 32 ? X25519PublicFromEd25519Public(*key) : StatusOr<std::string>(std::string());
      if (curve.ok() && !curve->empty() && *curve != peer.curve_key) {
        return ErrorFor(rid, PermissionDeniedError("only job " + c->job_id + "'s submitter may cancel it"));
      }
    }
    auto events = cluster_->Cancel(c->job_id);
    if (!events.ok()) return ErrorFor(rid, events.status());
    gateway_->RemoveJob(c->job_id);
    Apply(std::move(*events));
    Log(c->job_id, "cancelled by " + base_->IdentityOf(peer));
    PersistDirty();
    return Reply(rid, wire::CancelledBody{c->job_id});
  }
  if (std::holds_alternative<wire::ListWorkersBody>(req.body)) {
    wire::WorkersBody body;
    const int64_t now = options_.clock->MonotonicNanos() / 1'000'000;
    for (const auto& [id, w] : cluster_->workers()) {
      wire::WorkerInfo info;
      info.id = id;
      info.name = name_by_worker_[id];
      info.region = w.state.region;
      info.device = w.state.device == scheduler::Device::kCuda ? "cuda" : "cpu";
      info.alive = w.alive;
      info.slots = w.state.free_slots;
      info.used = static_cast<uint32_t>(w.jobs.size());
      info.tflops = w.state.tflops;
      info.price_per_hour_micros = w.state.price_per_hour_micros;
      info.last_seen_millis_ago = now - w.last_seen_mono_ms;
      const ledger::WorkerRecord rec = balances_.RecordOf(key_by_worker_[id]);
      info.reputation = ledger::ReputationPpm(rec) / 1e6;
      info.passes = rec.passes;
      info.fails = rec.fails;
      info.rounds = rec.rounds;
      info.profile = w.state.profile;
      info.verify_only = w.state.verify_only;
      if (auto g = gpus_by_worker_.find(id); g != gpus_by_worker_.end()) info.gpus = g->second;
      body.workers.push_back(std::move(info));
    }
    return Reply(rid, std::move(body));
  }
  // A body that is only ever a reply (or one newer than this coordinator).
  return ErrorFor(rid, InvalidArgumentError("request body " + std::to_string(req.body.index()) +
                                            " is not a request this coordinator answers"));
}

}  // namespace cairn::coordinator
