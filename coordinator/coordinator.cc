#include "coordinator/coordinator.h"

#include <algorithm>

#include <map>
#include <optional>
#include <set>

#include <openssl/rand.h>

#include "ledger/data_dir.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/key_file.h"
#include "runtime/crypto/sha256.h"

namespace cairn::coordinator {
namespace {

using wire::ClientReply;
using wire::ErrorReply;
using wire::HandlerResult;
using wire::MakeOutgoing;

HandlerResult Reply(uint64_t id, decltype(ClientReply::body) body) {
  return std::optional<wire::Outgoing>(MakeOutgoing(ClientReply{id, std::move(body)}));
}
HandlerResult ErrorFor(uint64_t id, const Status& s) {
  return Reply(id, ErrorReply{static_cast<uint16_t>(s.code()), s.message(), id});
}

std::string RandomSuffix() {
  unsigned char b[3];
  RAND_bytes(b, sizeof(b));
  return HexEncode(std::string_view(reinterpret_cast<char*>(b), sizeof(b)));
}

}  // namespace

StatusOr<std::unique_ptr<Coordinator>> Coordinator::Start(CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options)));
  const std::string& dir = c->options_.data_dir;
  if (ledger::OpenDataDir(dir).status().code() == StatusCode::kNotFound) {
    RETURN_IF_ERROR(ledger::InitDataDir(dir, ""));
  }
  ledger::LogOptions log_options;
  Balances* balances = &c->balances_;
  log_options.admit = [balances](const ledger::EntryHeader&, std::string_view entry) { return balances->Admit(entry); };
  ASSIGN_OR_RETURN(c->log_, ledger::OpenDataDir(dir, log_options));
  RETURN_IF_ERROR(c->balances_.Load(*c->log_, dir));
  ASSIGN_OR_RETURN(c->key_, LoadKeyFile(dir + "/log.key"));
  ASSIGN_OR_RETURN(c->context_, wire::WireContext::Create(c->options_.enrollment));
  for (const std::string& raw : c->options_.allow) {
    ASSIGN_OR_RETURN(Ed25519PublicKey k, Ed25519PublicKey::FromBytes(raw));
    RETURN_IF_ERROR(c->context_->directory().Allow(k));
  }
  wire::ServerOptions so;
  so.bind = c->options_.bus;
  ASSIGN_OR_RETURN(so.keys, wire::CurveKeysOf(*c->key_));
  ASSIGN_OR_RETURN(c->server_, wire::WireServer::Bind(c->context_.get(), so));
  c->cluster_ = std::make_unique<Cluster>(Clock::System(), c->options_.cluster);
  ASSIGN_OR_RETURN(c->store_, JobStore::Open(dir + "/state.db"));
  ASSIGN_OR_RETURN(c->artifacts_, ArtifactIndex::Open(dir + "/artifacts.json"));
  ASSIGN_OR_RETURN(c->api_keys_, ApiKeys::Open(dir + "/api_keys.json"));
  {
    ApiKeys* keys = c->api_keys_.get();
    const Balances* balances = &c->balances_;
    c->gateway_.SetAccounting(
        [keys](const std::string& key) -> StatusOr<std::string> {
          ASSIGN_OR_RETURN(ApiKeyRecord r, keys->Lookup(key));
          return r.account;
        },
        [balances](const std::string& account) { return balances->Available(account); });
  }
  ASSIGN_OR_RETURN(std::vector<StoredJob> stored, c->store_->LoadJobs());
  for (StoredJob& s : stored) {
    bool was_running = s.record.state == JobState::kRunning;
    std::string id = s.record.id;
    RETURN_IF_ERROR(c->cluster_->Restore(std::move(s.record)));
    c->spec_text_[id] = s.spec_text;
    ASSIGN_OR_RETURN(c->logs_[id].lines, c->store_->LoadLog(id));
    if (was_running) {
      c->Log(id, "requeued: the coordinator restarted");
      c->Persist(id);
    }
  }
  Coordinator* self = c.get();
  wire::BusSettings bus{static_cast<uint32_t>(c->options_.cluster.heartbeat_interval_ms),
                        static_cast<uint32_t>(c->options_.cluster.liveness)};
  c->base_ = std::make_unique<wire::BaseHandlers>(c->server_.get(), Clock::System(), bus);
  c->base_->SetHelloHook([self](const wire::Peer& p, const wire::WorkerHello& h, const std::string& id) {
    return self->OnHello(p, h, id);
  });
  c->base_->SetHeartbeatHook(
      [self](const wire::Peer&, const wire::Heartbeat&, const std::string& id) { return self->OnHeartbeat(id); });
  c->base_->SetClientVerbs([self](const wire::Peer& p, const wire::ClientRequest& r) { return self->OnClient(p, r); });
  c->server_->On<wire::TaskUpdate>([self](const wire::Peer& p, const wire::TaskUpdate& u) { return self->OnTaskUpdate(p, u); });
  c->server_->On<wire::Goodbye>([self](const wire::Peer& p, const wire::Goodbye& g) { return self->OnGoodbye(p, g); });
  c->server_->OnTick(c->options_.tick_ms, [self] { self->Tick(); });
  c->bus_thread_ = std::thread([self] {
    Status s = self->server_->Run();
    if (!s.ok()) CAIRN_LOG_ERROR("coordinator bus stopped: {}", s.ToString());
  });
  CAIRN_LOG_INFO("coordinator listening on {} (ledger '{}', {} entries)", c->endpoint(), c->log_->origin(),
                 c->log_->size());
  return c;
}

Coordinator::~Coordinator() {
  if (server_) server_->Stop();
  if (bus_thread_.joinable()) bus_thread_.join();
  base_.reset();
  server_.reset();
  context_.reset();
  log_.reset();  // drains queued ledger appends
}

CoordinatorStats Coordinator::stats() const {
  return CoordinatorStats{heartbeats_.load(), placements_.load(), alive_.load(), dead_.load(), queue_.load()};
}

void Coordinator::Record(const std::string& what, const ledger::BodyFiller& fill) {
  auto entry = ledger::MakeEntry(*key_, Clock::System()->NowUnixMillis(), fill);
  if (!entry.ok()) {
    CAIRN_LOG_ERROR("ledger: cannot build {} entry: {}", what, entry.status().ToString());
    return;
  }
  Status s = log_->AppendAsync({std::move(entry).value()}, [what](StatusOr<uint64_t> r) {
    if (!r.ok()) CAIRN_LOG_ERROR("ledger: {} entry not stored: {}", what, r.status().ToString());
  });
  if (!s.ok()) CAIRN_LOG_ERROR("ledger: {} entry refused: {}", what, s.ToString());
}

void Coordinator::Log(const std::string& job_id, const std::string& line) {
  auto& lines = logs_[job_id].lines;
  if (lines.size() >= 100000) return;
  lines.push_back(line);
  Status s = store_->AppendLog(job_id, line);
  if (!s.ok()) CAIRN_LOG_ERROR("state store: {}", s.ToString());
}

void Coordinator::Persist(const std::string& job_id) {
  auto j = cluster_->Job(job_id);
  if (!j.ok()) return;
  Status s = store_->Save(*j, spec_text_[job_id]);
  if (!s.ok()) CAIRN_LOG_ERROR("state store: {}", s.ToString());
}

Status Coordinator::OnHello(const wire::Peer& peer, const wire::WorkerHello& hello, const std::string& id) {
  if (hello.max_tasks == 0) return InvalidArgumentError("worker advertises no task slots (maxTasks = 0)");
  WorkerState w;
  w.id = id;
  w.region = hello.region;
  w.failure_domain = "";
  w.free_slots = hello.max_tasks;
  w.tflops = hello.measured_tflops;
  w.price_per_hour_micros = hello.price_per_hour_micros;
  for (const auto& d : hello.devices) {
    if (d.kind == wire::DeviceKind::kCuda) w.device = Device::kCuda;
    w.memory_bytes = std::max(w.memory_bytes, d.memory_bytes);
  }
  routing_by_worker_[id] = peer.routing_id;
  name_by_worker_[id] = hello.name;
  key_by_worker_[id] = hello.identity_key;
  Apply(cluster_->Join(w));
  return OkStatus();
}

Status Coordinator::OnHeartbeat(const std::string& id) {
  heartbeats_.fetch_add(1);
  return cluster_->Heartbeat(id);
}

wire::JobInfo Coordinator::Info(const JobRecord& j) const {
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
  return info;
}

HandlerResult Coordinator::OnClient(const wire::Peer& peer, const wire::ClientRequest& req) {
  uint64_t rid = req.request_id;
  if (const auto* sub = std::get_if<wire::SubmitBody>(&req.body)) {
    auto spec = ParseJobSpec(sub->spec, sub->source.empty() ? "job.yaml" : sub->source);
    if (!spec.ok()) return ErrorFor(rid, spec.status());
    std::string submitter = base_->IdentityOf(peer);
    auto id = cluster_->Submit(*spec, submitter, spec->name + "-" + RandomSuffix());
    if (!id.ok()) return ErrorFor(rid, id.status());
    spec_text_[*id] = sub->spec;
    Persist(*id);
    std::string spec_hash = Sha256Bytes(sub->spec);
    Record("jobSubmitted", [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto j = b.initJobSubmitted();
      j.setJobId(*id);
      j.setSpecHash(ledger::AsData(spec_hash));
    });
    Log(*id, "submitted by " + submitter + " (" + std::to_string(spec->workers) + " " + JobKindName(spec->kind) +
                 " workers wanted)");
    return Reply(rid, wire::SubmittedBody{*id});
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
    const auto& lines = logs_[lq->job_id].lines;
    for (uint64_t i = lq->from_line; i < lines.size() && chunk.lines.size() < 1000; ++i) {
      chunk.lines.push_back(lines[i].substr(0, wire::kMaxLogLineBytes));
    }
    chunk.next_line = lq->from_line + chunk.lines.size();
    chunk.finished = (j->state != JobState::kQueued && j->state != JobState::kRunning) && chunk.next_line >= lines.size();
    return Reply(rid, std::move(chunk));
  }
  if (const auto* c = std::get_if<wire::CancelBody>(&req.body)) {
    auto j = cluster_->Job(c->job_id);
    if (!j.ok()) return ErrorFor(rid, j.status());
    Status s = cluster_->Cancel(c->job_id);
    if (!s.ok()) return ErrorFor(rid, s);
    for (const std::string& w : j->workers) {
      auto it = routing_by_worker_.find(w);
      if (it != routing_by_worker_.end()) {
        (void)server_->SendTo(it->second, MakeOutgoing(wire::TaskRevoke{c->job_id, j->attempt, "job cancelled"}));
      }
    }
    gateway_.RemoveJob(c->job_id);
    Persist(c->job_id);
    Log(c->job_id, "cancelled by " + base_->IdentityOf(peer));
    return Reply(rid, wire::CancelledBody{c->job_id});
  }
  if (std::holds_alternative<wire::ListWorkersBody>(req.body)) {
    wire::WorkersBody body;
    int64_t now = Clock::System()->MonotonicNanos() / 1'000'000;
    for (const auto& [id, w] : cluster_->workers()) {
      wire::WorkerInfo info;
      info.id = id;
      info.name = name_by_worker_[id];
      info.region = w.state.region;
      info.device = w.state.device == Device::kCuda ? "cuda" : "cpu";
      info.alive = w.alive;
      info.slots = w.state.free_slots;
      info.used = static_cast<uint32_t>(w.jobs.size());
      info.tflops = w.state.tflops;
      info.price_per_hour_micros = w.state.price_per_hour_micros;
      info.last_seen_millis_ago = now - w.last_seen_mono_ms;
      body.workers.push_back(std::move(info));
    }
    return Reply(rid, std::move(body));
  }
  return ErrorFor(rid, UnimplementedError("unknown request"));
}

HandlerResult Coordinator::OnTaskUpdate(const wire::Peer& peer, const wire::TaskUpdate& update) {
  std::string worker = base_->IdentityOf(peer);
  auto j = cluster_->Job(update.job_id);
  if (!j.ok()) return j.status();
  if (update.attempt != j->attempt) return std::optional<wire::Outgoing>();  // a stale attempt: ignore
  if (const auto* line = std::get_if<wire::TaskLogLine>(&update.body)) {
    Log(update.job_id, "[" + worker.substr(0, 8) + "] " + line->line);
    return std::optional<wire::Outgoing>();
  }
  if (const auto* receipt = std::get_if<wire::TaskReceipt>(&update.body)) {
    Status s = AcceptReceipt(worker, update.job_id, receipt->entry);
    if (!s.ok()) Log(update.job_id, "[" + worker.substr(0, 8) + "] receipt refused: " + s.ToString());
    return s.ok() ? HandlerResult(std::optional<wire::Outgoing>()) : HandlerResult(s);
  }
  if (const auto* serving = std::get_if<wire::TaskServing>(&update.body)) {
    if (j->spec.kind != JobKind::kServe || std::find(j->workers.begin(), j->workers.end(), worker) == j->workers.end()) {
      return PermissionDeniedError("worker " + worker + " serves no replica of job " + update.job_id);
    }
    const size_t colon = serving->endpoint.rfind(':');
    ReplicaInfo r;
    r.model = j->spec.model;
    r.task = serving->task;
    r.job_id = update.job_id;
    r.worker_id = worker;
    r.host = serving->endpoint.substr(0, colon);
    r.port = std::atoi(serving->endpoint.c_str() + colon + 1);
    r.worker_key = key_by_worker_[worker];
    auto model = artifacts_->Model(j->spec.model);
    r.model_hash = model ? model->blob : "";
    r.per_request_micros = j->spec.price_per_request_micros;
    r.per_1k_tokens_micros = j->spec.price_per_1k_tokens_micros;
    r.worker_share_bps = j->spec.worker_share_bps;
    gateway_.AddReplica(r);
    Log(update.job_id, "[" + worker.substr(0, 8) + "] serving " + j->spec.model + " (" + serving->task + ") at " +
                           serving->endpoint);
    return std::optional<wire::Outgoing>();
  }
  const auto& f = std::get<wire::TaskFinished>(update.body);
  if (j->spec.kind == JobKind::kServe) gateway_.RemoveWorker(worker);
  RETURN_IF_ERROR(cluster_->TaskFinished(update.job_id, worker, f.ok, f.message));
  Persist(update.job_id);
  Log(update.job_id, "[" + worker.substr(0, 8) + "] task " + (f.ok ? "finished: " : "failed: ") + f.message);
  auto after = cluster_->Job(update.job_id);
  if (after.ok() && after->state != JobState::kRunning) {
    Log(update.job_id, std::string("job ") + JobStateName(after->state));
    rendezvous_.Close(update.job_id);
  }
  return std::optional<wire::Outgoing>();
}

Status Coordinator::AcceptReceipt(const std::string& worker, const std::string& job_id, const std::string& entry) {
  ASSIGN_OR_RETURN(ledger::EntryHeader header, ledger::ValidateEntry(entry));
  auto key = key_by_worker_.find(worker);
  if (key == key_by_worker_.end() || header.actor != key->second) {
    return PermissionDeniedError("receipt is not signed by the worker that sent it");
  }
  ASSIGN_OR_RETURN(ledger::EntryReader reader, ledger::EntryReader::Open(entry));
  auto body = reader.root().getBody();
  using B = ledger::schema::LedgerEntry::Body;
  std::string entry_job;
  uint64_t checkpoint_round = 0;
  std::string checkpoint_blob;
  std::optional<ModelRef> model;
  std::optional<std::map<std::string, uint32_t>> shares;  // modelRegistered: account hex -> basis points
  std::string author;                                      // modelRegistered: account hex, or empty
  switch (body.which()) {
    case B::STEP_RECEIPT: {
      auto r = body.getStepReceipt();
      entry_job = r.getJobId().cStr();
      uint64_t samples = 0;
      for (auto u : r.getConsumed()) samples += u.getSamples();
      if (entry_job == job_id) {
        MutexLock lock(&progress_mu_);
        Progress& p = progress_[job_id];
        p.round = std::max<uint64_t>(p.round, r.getRound());
        p.loss = r.getLoss();
        p.samples += samples;
        ++p.receipts;
      }
      break;
    }
    case B::CHECKPOINT_COMMITTED:
      entry_job = body.getCheckpointCommitted().getJobId().cStr();
      checkpoint_round = body.getCheckpointCommitted().getRound();
      checkpoint_blob = ledger::FromData(body.getCheckpointCommitted().getBlobHash());
      break;
    case B::MODEL_REGISTERED: {
      auto m = body.getModelRegistered();
      entry_job = m.getJobId().cStr();
      model = ModelRef{m.getName().cStr(), ledger::FromData(m.getModelHash()), entry_job, "", {},
                       ledger::FromData(m.getParentModel()), m.getLicense().cStr()};
      for (auto d : m.getDatasets()) model->datasets.push_back(ledger::FromData(d));
      shares.emplace();
      for (auto s : m.getShares()) (*shares)[HexEncode(ledger::FromData(s.getAccount()))] += s.getBasisPoints();
      author = HexEncode(ledger::FromData(m.getAuthor()));
      break;
    }
    default: return InvalidArgumentError("a worker may not append a " + ledger::EntryTypeName(header.type));
  }
  if (entry_job != job_id) return InvalidArgumentError("receipt names job " + entry_job + ", not " + job_id);
  ASSIGN_OR_RETURN(JobRecord job, cluster_->Job(job_id));
  if (std::find(job.workers.begin(), job.workers.end(), worker) == job.workers.end()) {
    return PermissionDeniedError("worker is not placed on job " + job_id);
  }
  if (model) {
    // Royalties go where the submitted spec says (its author, the submitter
    // by default, and its shares), never where the registering worker
    // would like.
    if (author != job.spec.output_author) {
      return PermissionDeniedError("modelRegistered.author differs from job " + job_id + "'s output.author");
    }
    if (*shares != job.spec.output_shares) {
      return PermissionDeniedError("modelRegistered.shares differ from job " + job_id + "'s output.shares");
    }
  }
  if (checkpoint_round > 0) {
    RETURN_IF_ERROR(cluster_->CheckpointCommitted(job_id, checkpoint_round));
    RETURN_IF_ERROR(artifacts_->SetCheckpoint(job_id, {checkpoint_round, checkpoint_blob}));
  }
  if (model) RETURN_IF_ERROR(artifacts_->AddModel(*model));
  return log_->AppendAsync({entry}, [job_id](StatusOr<uint64_t> r) {
    if (!r.ok()) CAIRN_LOG_WARN("ledger append for job {} failed: {}", job_id, r.status().ToString());
  });
}

std::string Coordinator::TrainingMetrics() const {
  std::string round = "# HELP cairn_train_round Latest round a worker reported for a training job.\n# TYPE cairn_train_round gauge\n";
  std::string loss = "# HELP cairn_train_loss Mean training loss in the latest receipt.\n# TYPE cairn_train_loss gauge\n";
  std::string samples = "# HELP cairn_train_samples_total Samples trained on, from step receipts.\n# TYPE cairn_train_samples_total counter\n";
  uint64_t receipts = 0;
  MutexLock lock(&progress_mu_);
  for (const auto& [job, p] : progress_) {
    const std::string label = "{job=\"" + job + "\"} ";
    round += "cairn_train_round" + label + std::to_string(p.round) + "\n";
    loss += "cairn_train_loss" + label + std::to_string(p.loss) + "\n";
    samples += "cairn_train_samples_total" + label + std::to_string(p.samples) + "\n";
    receipts += p.receipts;
  }
  return round + loss + samples + "# HELP cairn_step_receipts_total Step receipts accepted into the ledger.\n" +
         "# TYPE cairn_step_receipts_total counter\ncairn_step_receipts_total " + std::to_string(receipts) + "\n";
}

HandlerResult Coordinator::OnGoodbye(const wire::Peer& peer, const wire::Goodbye& bye) {
  std::string worker = base_->IdentityOf(peer);
  Apply(cluster_->Leave(worker));
  CAIRN_LOG_INFO("worker {} left: {}", worker, bye.reason);
  return std::optional<wire::Outgoing>();
}

void Coordinator::Tick() {
  FlushUsage();
  int64_t start = Clock::System()->MonotonicNanos();
  auto events = cluster_->Tick();
  double seconds = static_cast<double>(Clock::System()->MonotonicNanos() - start) / 1e9;
  for (const auto& e : events) {
    if (e.kind == ClusterEvent::kPlaced) {
      placement_latency_.Observe(seconds);
      break;
    }
  }
  Apply(events);
  uint64_t alive = 0;
  for (const auto& [id, w] : cluster_->workers()) alive += w.alive;
  alive_.store(alive);
  dead_.store(cluster_->workers().size() - alive);
  queue_.store(cluster_->QueueDepth());
}

}  // namespace cairn::coordinator
