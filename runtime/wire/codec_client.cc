// Encoding and decoding of ClientRequest / ClientReply (the CLI's verbs).
#include <cmath>

#include "runtime/wire/codec_internal.h"

namespace cairn::wire {
namespace {

using namespace ::cairn::wire::internal;  // NOLINT
using Req = s::ClientRequest::Body;
using Rep = s::ClientReply::Body;

Status CheckId(const std::string& v, const char* field) {
  if (v.empty()) return InvalidArgumentError(std::string(field) + " is empty");
  return CheckText(v, kMaxIdBytes, field);
}

void FillJob(s::JobInfo::Builder b, const JobInfo& j) {
  b.setId(Text(j.id));
  b.setName(Text(j.name));
  b.setKind(Text(j.kind));
  b.setState(Text(j.state));
  b.setAttempt(j.attempt);
  b.setRetries(j.retries);
  auto w = b.initWorkers(static_cast<unsigned>(j.workers.size()));
  for (unsigned i = 0; i < j.workers.size(); ++i) w.set(i, Text(j.workers[i]));
  b.setMessage(Text(j.message));
  b.setSubmitter(Text(j.submitter));
  b.setSubmittedUnixMillis(j.submitted_unix_millis);
  b.setWorkersWanted(j.workers_wanted);
  b.setBudgetMicros(j.budget_micros);
  b.setSpentMicros(j.spent_micros);
  b.setRefundedMicros(j.refunded_micros);
}

Status ReadJob(s::JobInfo::Reader r, JobInfo* j) {
  j->id = Str(r.getId());
  j->name = Str(r.getName());
  j->kind = Str(r.getKind());
  j->state = Str(r.getState());
  j->attempt = r.getAttempt();
  j->retries = r.getRetries();
  j->workers_wanted = r.getWorkersWanted();
  auto w = r.getWorkers();
  if (w.size() > 1024) return OutOfRangeError("job.workers has too many entries");
  for (auto x : w) j->workers.push_back(Str(x));
  j->message = Str(r.getMessage());
  j->submitter = Str(r.getSubmitter());
  j->submitted_unix_millis = r.getSubmittedUnixMillis();
  j->budget_micros = r.getBudgetMicros();
  j->spent_micros = r.getSpentMicros();
  j->refunded_micros = r.getRefundedMicros();
  RETURN_IF_ERROR(CheckText(j->id, kMaxIdBytes, "job.id"));
  return CheckDataSize(j->message, kMaxErrorMessageBytes, "job.message");
}

void FillWorker(s::WorkerInfo::Builder b, const WorkerInfo& w) {
  b.setId(Text(w.id));
  b.setName(Text(w.name));
  b.setRegion(Text(w.region));
  b.setAlive(w.alive);
  b.setSlots(w.slots);
  b.setUsed(w.used);
  b.setTflops(w.tflops);
  b.setPricePerHourMicros(w.price_per_hour_micros);
  b.setDevice(Text(w.device));
  b.setLastSeenMillisAgo(w.last_seen_millis_ago);
  b.setReputation(w.reputation);
  b.setPasses(w.passes);
  b.setFails(w.fails);
  b.setRounds(w.rounds);
  b.setProfile(Text(w.profile));
  b.setVerifyOnly(w.verify_only);
  FillDevices(b.initGpus(static_cast<unsigned>(w.gpus.size())), w.gpus);
}

Status ReadWorker(s::WorkerInfo::Reader r, WorkerInfo* w) {
  w->id = Str(r.getId());
  w->name = Str(r.getName());
  w->region = Str(r.getRegion());
  w->alive = r.getAlive();
  w->slots = r.getSlots();
  w->used = r.getUsed();
  w->tflops = r.getTflops();
  w->price_per_hour_micros = r.getPricePerHourMicros();
  w->device = Str(r.getDevice());
  w->last_seen_millis_ago = r.getLastSeenMillisAgo();
  w->reputation = r.getReputation();
  w->passes = r.getPasses();
  w->fails = r.getFails();
  w->rounds = r.getRounds();
  w->profile = Str(r.getProfile());
  w->verify_only = r.getVerifyOnly();
  RETURN_IF_ERROR(ReadDevices(r.getGpus(), 64, "worker.gpus", &w->gpus));
  if (!std::isfinite(w->reputation) || w->reputation < 0 || w->reputation > 1) {
    return InvalidArgumentError("worker.reputation must be between 0 and 1");
  }
  RETURN_IF_ERROR(CheckText(w->profile, 256, "worker.profile"));
  RETURN_IF_ERROR(CheckText(w->id, kMaxIdBytes, "worker.id"));
  return CheckText(w->name, kMaxNameBytes, "worker.name");
}

void FillEstimate(s::Estimate::Builder b, const EstimateReply& e) {
  auto ds = b.initDatasets(static_cast<unsigned>(e.datasets.size()));
  for (unsigned i = 0; i < e.datasets.size(); ++i) ds.set(i, Bytes(e.datasets[i]));
  b.setParentModel(Bytes(e.parent_model));
  auto ws = b.initWorkers(static_cast<unsigned>(e.workers.size()));
  for (unsigned i = 0; i < e.workers.size(); ++i) FillWorker(ws[i], e.workers[i]);
  b.setUnplaced(Text(e.unplaced));
  b.setHours(e.hours);
  b.setSamples(e.samples);
  b.setComputeMicros(e.compute_micros);
  b.setDataMicros(e.data_micros);
  b.setFeeMicros(e.fee_micros);
  b.setAvailableMicros(e.available_micros);
  b.setBasis(Text(e.basis));
  b.setRefusal(Text(e.refusal));
}

Status ReadEstimate(s::Estimate::Reader r, EstimateReply* e) {
  if (r.getDatasets().size() > kMaxListItems) return OutOfRangeError("estimate.datasets has too many entries");
  for (auto d : r.getDatasets()) {
    e->datasets.push_back(Str(d));
    if (e->datasets.back().size() != 32) return InvalidArgumentError("estimate.datasets: an id must be 32 bytes");
  }
  e->parent_model = Str(r.getParentModel());
  if (!e->parent_model.empty() && e->parent_model.size() != 32) {
    return InvalidArgumentError("estimate.parentModel must be 32 bytes or empty");
  }
  if (r.getWorkers().size() > kMaxListItems) return OutOfRangeError("estimate.workers has too many entries");
  for (auto w : r.getWorkers()) {
    WorkerInfo info;
    RETURN_IF_ERROR(ReadWorker(w, &info));
    e->workers.push_back(std::move(info));
  }
  e->unplaced = Str(r.getUnplaced());
  e->basis = Str(r.getBasis());
  e->refusal = Str(r.getRefusal());
  e->hours = r.getHours();
  e->samples = r.getSamples();
  e->compute_micros = r.getComputeMicros();
  e->data_micros = r.getDataMicros();
  e->fee_micros = r.getFeeMicros();
  e->available_micros = r.getAvailableMicros();
  RETURN_IF_ERROR(CheckDataSize(e->unplaced, kMaxErrorMessageBytes, "estimate.unplaced"));
  RETURN_IF_ERROR(CheckDataSize(e->basis, kMaxErrorMessageBytes, "estimate.basis"));
  return CheckDataSize(e->refusal, kMaxErrorMessageBytes, "estimate.refusal");
}

}  // namespace

std::string Encode(const ClientRequest& m) {
  capnp::MallocMessageBuilder b(64);
  auto r = b.initRoot<s::ClientRequest>();
  r.setRequestId(m.request_id);
  r.setDeadlineUnixMillis(m.deadline_unix_millis);
  auto body = r.initBody();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, PingBody>) {
          body.setPing(Bytes(v.payload));
        } else if constexpr (std::is_same_v<T, WhoamiBody>) {
          body.setWhoami();
        } else if constexpr (std::is_same_v<T, SubmitBody>) {
          auto s = body.initSubmit();
          s.setSpec(Text(v.spec));
          s.setSource(Text(v.source));
          s.setEntry(Bytes(v.entry));
        } else if constexpr (std::is_same_v<T, EstimateBody>) {
          auto s = body.initEstimate();
          s.setSpec(Text(v.spec));
          s.setSource(Text(v.source));
          s.setEntry(Bytes(v.caller_key));
        } else if constexpr (std::is_same_v<T, TopUpBody>) {
          body.setTopUp(Bytes(v.entry));
        } else if constexpr (std::is_same_v<T, ListJobsBody>) {
          body.setListJobs();
        } else if constexpr (std::is_same_v<T, JobStatusBody>) {
          body.setJobStatus(Text(v.job_id));
        } else if constexpr (std::is_same_v<T, JobLogsBody>) {
          auto l = body.initJobLogs();
          l.setJobId(Text(v.job_id));
          l.setFromLine(v.from_line);
        } else if constexpr (std::is_same_v<T, CancelBody>) {
          body.setCancel(Text(v.job_id));
        } else {
          body.setListWorkers();
        }
      },
      m.body);
  return Serialize(b);
}

std::string Encode(const ClientReply& m) {
  capnp::MallocMessageBuilder b(256);
  auto r = b.initRoot<s::ClientReply>();
  r.setRequestId(m.request_id);
  auto body = r.initBody();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ErrorReply>) {
          FillError(body.initError(), v);
        } else if constexpr (std::is_same_v<T, PongBody>) {
          body.setPong(Bytes(v.payload));
        } else if constexpr (std::is_same_v<T, WhoamiReplyBody>) {
          body.setWhoami(Text(v.identity));
        } else if constexpr (std::is_same_v<T, SubmittedBody>) {
          body.setSubmitted(Text(v.job_id));
        } else if constexpr (std::is_same_v<T, JobsBody>) {
          auto list = body.initJobs(static_cast<unsigned>(v.jobs.size()));
          for (unsigned i = 0; i < v.jobs.size(); ++i) FillJob(list[i], v.jobs[i]);
        } else if constexpr (std::is_same_v<T, JobInfo>) {
          FillJob(body.initJob(), v);
        } else if constexpr (std::is_same_v<T, LogsChunk>) {
          auto l = body.initLogs();
          auto lines = l.initLines(static_cast<unsigned>(v.lines.size()));
          for (unsigned i = 0; i < v.lines.size(); ++i) lines.set(i, Text(v.lines[i]));
          l.setNextLine(v.next_line);
          l.setFinished(v.finished);
        } else if constexpr (std::is_same_v<T, CancelledBody>) {
          body.setCancelled(Text(v.job_id));
        } else if constexpr (std::is_same_v<T, EstimateReply>) {
          FillEstimate(body.initEstimate(), v);
        } else {
          auto list = body.initWorkers(static_cast<unsigned>(v.workers.size()));
          for (unsigned i = 0; i < v.workers.size(); ++i) FillWorker(list[i], v.workers[i]);
        }
      },
      m.body);
  return Serialize(b);
}

Status Decode(std::string_view payload, ClientRequest* out) {
  return ReadPayload<s::ClientRequest>(payload, MessageType::kClientRequest, [&](s::ClientRequest::Reader r) -> Status {
    out->request_id = r.getRequestId();
    out->deadline_unix_millis = r.getDeadlineUnixMillis();
    auto body = r.getBody();
    switch (body.which()) {
      case Req::PING:
        out->body = PingBody{Str(body.getPing())};
        return CheckDataSize(std::get<PingBody>(out->body).payload, kMaxPingBytes, "ping");
      case Req::WHOAMI:
        out->body = WhoamiBody{};
        return OkStatus();
      case Req::SUBMIT: {
        SubmitBody sb{Str(body.getSubmit().getSpec()), Str(body.getSubmit().getSource()),
                      Str(body.getSubmit().getEntry())};
        RETURN_IF_ERROR(CheckDataSize(sb.spec, kMaxSpecBytes, "submit.spec"));
        RETURN_IF_ERROR(CheckText(sb.source, 1024, "submit.source"));
        RETURN_IF_ERROR(CheckDataSize(sb.entry, kMaxReceiptBytes, "submit.entry"));
        out->body = std::move(sb);
        return OkStatus();
      }
      case Req::ESTIMATE: {
        EstimateBody eb{Str(body.getEstimate().getSpec()), Str(body.getEstimate().getSource()),
                        Str(body.getEstimate().getEntry())};
        RETURN_IF_ERROR(CheckDataSize(eb.caller_key, 32, "estimate.entry (the caller's key)"));
        RETURN_IF_ERROR(CheckDataSize(eb.spec, kMaxSpecBytes, "estimate.spec"));
        RETURN_IF_ERROR(CheckText(eb.source, 1024, "estimate.source"));
        out->body = std::move(eb);
        return OkStatus();
      }
      case Req::TOP_UP:
        out->body = TopUpBody{Str(body.getTopUp())};
        return CheckDataSize(std::get<TopUpBody>(out->body).entry, kMaxReceiptBytes, "topUp");
      case Req::LIST_JOBS:
        out->body = ListJobsBody{};
        return OkStatus();
      case Req::JOB_STATUS:
        out->body = JobStatusBody{Str(body.getJobStatus())};
        return CheckId(std::get<JobStatusBody>(out->body).job_id, "jobStatus");
      case Req::JOB_LOGS:
        out->body = JobLogsBody{Str(body.getJobLogs().getJobId()), body.getJobLogs().getFromLine()};
        return CheckId(std::get<JobLogsBody>(out->body).job_id, "jobLogs.jobId");
      case Req::CANCEL:
        out->body = CancelBody{Str(body.getCancel())};
        return CheckId(std::get<CancelBody>(out->body).job_id, "cancel");
      case Req::LIST_WORKERS:
        out->body = ListWorkersBody{};
        return OkStatus();
    }
    return InvalidArgumentError("unknown request body " + std::to_string(static_cast<int>(body.which())));
  });
}

Status Decode(std::string_view payload, ClientReply* out) {
  return ReadPayload<s::ClientReply>(payload, MessageType::kClientReply, [&](s::ClientReply::Reader r) -> Status {
    out->request_id = r.getRequestId();
    auto body = r.getBody();
    switch (body.which()) {
      case Rep::ERROR: {
        ErrorReply e;
        RETURN_IF_ERROR(ReadError(body.getError(), &e));
        out->body = std::move(e);
        return OkStatus();
      }
      case Rep::PONG:
        out->body = PongBody{Str(body.getPong())};
        return CheckDataSize(std::get<PongBody>(out->body).payload, kMaxPingBytes, "pong");
      case Rep::WHOAMI:
        out->body = WhoamiReplyBody{Str(body.getWhoami())};
        return CheckText(std::get<WhoamiReplyBody>(out->body).identity, kMaxNameBytes, "whoami");
      case Rep::SUBMITTED:
        out->body = SubmittedBody{Str(body.getSubmitted())};
        return CheckId(std::get<SubmittedBody>(out->body).job_id, "submitted");
      case Rep::JOBS: {
        JobsBody jb;
        auto list = body.getJobs();
        if (list.size() > kMaxListItems) return OutOfRangeError("jobs has too many entries");
        for (auto j : list) {
          JobInfo info;
          RETURN_IF_ERROR(ReadJob(j, &info));
          jb.jobs.push_back(std::move(info));
        }
        out->body = std::move(jb);
        return OkStatus();
      }
      case Rep::JOB: {
        JobInfo info;
        RETURN_IF_ERROR(ReadJob(body.getJob(), &info));
        out->body = std::move(info);
        return OkStatus();
      }
      case Rep::LOGS: {
        LogsChunk c;
        auto l = body.getLogs();
        if (l.getLines().size() > kMaxListItems) return OutOfRangeError("logs has too many lines");
        for (auto line : l.getLines()) {
          c.lines.push_back(Str(line));
          RETURN_IF_ERROR(CheckDataSize(c.lines.back(), kMaxLogLineBytes, "logs.lines"));
        }
        c.next_line = l.getNextLine();
        c.finished = l.getFinished();
        out->body = std::move(c);
        return OkStatus();
      }
      case Rep::CANCELLED:
        out->body = CancelledBody{Str(body.getCancelled())};
        return CheckId(std::get<CancelledBody>(out->body).job_id, "cancelled");
      case Rep::WORKERS: {
        WorkersBody wb;
        auto list = body.getWorkers();
        if (list.size() > kMaxListItems) return OutOfRangeError("workers has too many entries");
        for (auto w : list) {
          WorkerInfo info;
          RETURN_IF_ERROR(ReadWorker(w, &info));
          wb.workers.push_back(std::move(info));
        }
        out->body = std::move(wb);
        return OkStatus();
      }
      case Rep::ESTIMATE: {
        EstimateReply e;
        RETURN_IF_ERROR(ReadEstimate(body.getEstimate(), &e));
        out->body = std::move(e);
        return OkStatus();
      }
    }
    return InvalidArgumentError("unknown reply body " + std::to_string(static_cast<int>(body.which())));
  });
}

}  // namespace cairn::wire
