// Start-up (ledger, views rebuilt from it, state store, re-adopted jobs),
// shutdown, workers' hellos, heartbeats and goodbyes, and the tick.
#include "coordinator/coordinator.h"

#include <algorithm>

#include "ledger/data_dir.h"
#include "ledger/sqlite_store.h"
#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/key_file.h"

namespace cairn::coordinator {

StatusOr<std::unique_ptr<Coordinator>> Coordinator::Start(CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(options)));
  RETURN_IF_ERROR(c->OpenLedger());
  const std::string& dir = c->options_.data_dir;
  ASSIGN_OR_RETURN(c->context_, wire::WireContext::Create(c->options_.enrollment));
  for (const std::string& raw : c->options_.allow) {
    ASSIGN_OR_RETURN(Ed25519PublicKey k, Ed25519PublicKey::FromBytes(raw));
    RETURN_IF_ERROR(c->context_->directory().Allow(k));
  }
  wire::ServerOptions so;
  so.bind = c->options_.bus;
  so.clock = c->options_.clock;
  ASSIGN_OR_RETURN(so.keys, wire::CurveKeysOf(*c->key_));
  ASSIGN_OR_RETURN(c->server_, wire::WireServer::Bind(c->context_.get(), so));
  c->cluster_ = std::make_unique<Cluster>(c->options_.clock, c->options_.cluster);
  ASSIGN_OR_RETURN(c->store_, StateStore::Open(dir + "/state.db"));
  ASSIGN_OR_RETURN(c->api_keys_, ApiKeys::Open(c->store_.get(), c->options_.clock));
  scheduler::GatewayOptions go;
  go.clock = c->options_.clock;
  go.metrics = &c->metrics_;
  c->gateway_ = std::make_unique<Gateway>(go);
  c->RegisterMetrics();
  {
    ApiKeys* keys = c->api_keys_.get();
    const Balances* balances = &c->balances_;
    c->gateway_->SetAccounting(
        [keys](const std::string& key) -> StatusOr<std::string> {
          ASSIGN_OR_RETURN(ApiKeyRecord r, keys->Lookup(key));
          return r.account;
        },
        [balances](const std::string& account) { return balances->Available(account); });
  }
  RendezvousOptions ro = c->options_.rendezvous;
  if (ro.data_dir.empty()) ro.data_dir = dir;
  ASSIGN_OR_RETURN(c->rendezvous_, RendezvousHost::Start(ro));
  RETURN_IF_ERROR(c->RestoreJobs());
  c->InstallHandlers();
  Coordinator* self = c.get();
  c->bus_thread_ = std::thread([self] {
    Status s = self->server_->Run();
    if (!s.ok()) CAIRN_LOG_ERROR("coordinator bus stopped: {}", s.ToString());
  });
  CAIRN_LOG_INFO("coordinator listening on {} (ledger '{}', {} entries)", c->endpoint(), c->log_->origin(),
                 c->log_->size());
  c->started_ = true;
  return c;
}

// The ledger, and everything derived from it rebuilt by replaying it: the
// balances (verified), the view and the dataset index. From then on each
// committed entry reaches them in log order through on_commit.
Status Coordinator::OpenLedger() {
  const std::string& dir = options_.data_dir;
  if (ledger::OpenDataDir(dir).status().code() == StatusCode::kNotFound) RETURN_IF_ERROR(ledger::InitDataDir(dir, ""));
  ASSIGN_OR_RETURN(key_, LoadKeyFile(dir + "/log.key"));
  ASSIGN_OR_RETURN(datasets_, data::DatasetRegistry::Open(dir));
  ledger::LogOptions lo;
  Balances* balances = &balances_;
  LedgerView* view = &view_;
  AuditBook* audit = &audit_;
  data::DatasetRegistry* datasets = datasets_.get();
  lo.admit = [balances](const ledger::EntryHeader&, std::string_view entry) { return balances->Admit(entry); };
  lo.on_commit = [balances, view, audit, datasets](uint64_t index, std::string_view entry) {
    view->Apply(index, entry);
    audit->Apply(index, entry);
    balances->Commit(index, entry);
    datasets->ApplyCommitted(index, entry);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<ledger::SqliteStore> sqlite, ledger::SqliteStore::Open(dir + "/ledger.db"));
  std::unique_ptr<ledger::LedgerStore> store = std::move(sqlite);
  if (options_.wrap_store) store = options_.wrap_store(std::move(store));
  ASSIGN_OR_RETURN(lo.origin, store->GetSetting("origin"));
  ASSIGN_OR_RETURN(log_, ledger::Log::Open(std::move(store), *key_, lo));
  RETURN_IF_ERROR(balances_.Load(*log_, dir));
  const uint64_t size = log_->size();
  for (uint64_t first = 0; first < size; first += 4096) {
    ASSIGN_OR_RETURN(auto entries, log_->store().Entries(first, 4096));
    for (size_t i = 0; i < entries.size(); ++i) {
      view_.Apply(first + i, entries[i]);
      audit_.Apply(first + i, entries[i]);
    }
  }
  RETURN_IF_ERROR(datasets_->Rebuild(log_->store()));
  datasets_->SetLedger(log_.get());
  return OkStatus();
}

// Jobs from state.db. A job whose submission never reached the ledger (the
// store failed first) is failed; a running one is re-adopted.
Status Coordinator::RestoreJobs() {
  ASSIGN_OR_RETURN(std::vector<StoredJob> stored, store_->LoadJobs());
  for (StoredJob& s : stored) {
    scheduler::JobRecord& j = s.record;
    const std::string id = j.id;
    spec_text_[id] = s.spec_text;
    ASSIGN_OR_RETURN(logs_[id], store_->LoadLog(id));
    // A failing verdict's removals shrink what an elastic job restarts with.
    for (const auto& [key, c] : balances_.Challenges()) {
      if (key.job == id && c.result == "fail") ++j.removed;
    }
    // Verification tasks are the coordinator's own (no submission): they
    // are made again from the open challenges if they are gone.
    if (j.spec.kind == JobKind::kVerify) {
      RETURN_IF_ERROR(cluster_->Restore(std::move(j)));
      continue;
    }
    if (!view_.Submitted(id) && (j.state == JobState::kQueued || j.state == JobState::kRunning)) {
      j.state = JobState::kFailed;
      j.workers.clear();
      j.uids.clear();
      j.message = "its submission never reached the ledger (the ledger's store failed); submit it again";
      Log(id, j.message);
      RETURN_IF_ERROR(store_->Save(j, s.spec_text));
    }
    const uint32_t last = view_.LastPlacedAttempt(id);
    if (last > j.attempt && (j.state == JobState::kQueued || j.state == JobState::kRunning)) {
      // state.db is behind the ledger (its last write was lost): the
      // attempts the ledger names are spent, so the next placement is a new
      // one, from the last checkpoint.
      j.attempt = last;
      j.state = JobState::kQueued;
      j.workers.clear();
      j.uids.clear();
      Log(id, "the ledger names attempt " + std::to_string(last) +
                  ", later than the coordinator's state: the job is placed again from its last checkpoint");
      RETURN_IF_ERROR(store_->Save(j, s.spec_text));
    }
    const bool running = j.state == JobState::kRunning;
    RETURN_IF_ERROR(cluster_->Restore(std::move(j)));
    // A placement that never reached the ledger is recorded again before its
    // worker is assigned anything (SendAssign).
    if (running) Log(id, "the coordinator restarted: waiting for the job's workers to come back");
  }
  return OkStatus();
}

void Coordinator::RegisterMetrics() {
  MetricsRegistry& m = metrics_;
  auto read = [](const std::atomic<uint64_t>& a) { return [&a] { return static_cast<double>(a.load()); }; };
  m.CounterFunction("cairn_heartbeats_received_total", "Heartbeats received from workers.", {}, read(heartbeats_));
  m.CounterFunction("cairn_placements_total", "Jobs placed on workers (each attempt).", {}, read(placements_));
  m.GaugeFunction("cairn_job_queue_depth", "Jobs waiting to be placed.", {}, read(queue_));
  m.GaugeFunction("cairn_workers", "Workers known to the coordinator, by state.", {{"state", "alive"}}, read(alive_));
  m.GaugeFunction("cairn_workers", "Workers known to the coordinator, by state.", {{"state", "dead"}}, read(dead_));
  ledger::Log* log = log_.get();
  m.GaugeFunction("cairn_ledger_entries", "Entries in the provenance ledger.", {},
                  [log] { return static_cast<double>(log->size()); });
  m.GaugeFunction("cairn_ledger_ready", "1 while the ledger accepts entries, 0 after a store failure (fail-stop).", {},
                  [log] { return log->health().ok() ? 1.0 : 0.0; });
  m.CounterFunction("cairn_worker_entries_acked_total", "Worker-signed entries acknowledged (resends included).", {},
                    read(acked_));
  m.CounterFunction("cairn_worker_entries_duplicate_total", "Resent worker entries already in the ledger.", {},
                    read(duplicates_));
  m.CounterFunction("cairn_worker_entries_refused_total", "Worker-signed entries refused.", {}, read(refused_));
  Gateway* gateway = gateway_.get();
  m.GaugeFunction("cairn_inference_unrecorded_micros",
                  "Inference charges metered but not yet durable in the ledger (held against credits).", {},
                  [gateway] { return static_cast<double>(gateway->meter().PendingTotal()); });
}

void Coordinator::InstallHandlers() {
  Coordinator* self = this;
  wire::BusSettings bus{static_cast<uint32_t>(options_.cluster.heartbeat_interval_ms),
                        static_cast<uint32_t>(options_.cluster.liveness)};
  base_ = std::make_unique<wire::BaseHandlers>(server_.get(), options_.clock, bus);
  base_->SetHelloHook([self](const wire::Peer& p, const wire::WorkerHello& h, const std::string& id) {
    return self->OnHello(p, h, id);
  });
  base_->SetHeartbeatHook(
      [self](const wire::Peer&, const wire::Heartbeat& hb, const std::string& id) { return self->OnHeartbeat(hb, id); });
  base_->SetClientVerbs([self](const wire::Peer& p, const wire::ClientRequest& r) { return self->OnClient(p, r); });
  base_->SetChallengesFor([self](const std::string& id) { return self->ChallengesFor(id); });
  cluster_->SetExclusion([self](const scheduler::JobRecord& j, const std::string& w) { return self->Excluded(j, w); });
  server_->On<wire::TaskUpdate>([self](const wire::Peer& p, const wire::TaskUpdate& u) { return self->OnTaskUpdate(p, u); });
  server_->On<wire::Goodbye>([self](const wire::Peer& p, const wire::Goodbye& g) { return self->OnGoodbye(p, g); });
  server_->OnTick(options_.tick_ms, [self] { self->Tick(); });
}

Coordinator::~Coordinator() {
  if (server_) server_->Stop();
  if (bus_thread_.joinable()) bus_thread_.join();
  // A clean shutdown: nothing meets here any more. A coordinator that never
  // finished starting leaves the host (perhaps adopted, still serving live
  // groups) to whoever starts next.
  if (rendezvous_ && started_) rendezvous_->Stop();
  log_.reset();  // drains queued ledger appends; their callbacks post to the stopped bus, where they are dropped
  base_.reset();
  server_.reset();
  context_.reset();
}

CoordinatorStats Coordinator::stats() const {
  return CoordinatorStats{heartbeats_.load(), placements_.load(), alive_.load(), dead_.load(),
                          queue_.load(),      acked_.load(),      duplicates_.load(), refused_.load()};
}

void Coordinator::Log(const std::string& job_id, const std::string& line) {
  auto& lines = logs_[job_id];
  if (lines.size() >= 100000) return;
  lines.push_back(line);
  Status s = store_->AppendLog(job_id, line);
  if (!s.ok()) CAIRN_LOG_ERROR("state store: {}", s.ToString());
}

void Coordinator::PersistDirty() {
  for (const std::string& id : cluster_->TakeDirty()) {
    auto j = cluster_->Job(id);
    if (!j.ok()) continue;
    Status s = store_->Save(*j, spec_text_[id]);
    if (!s.ok()) CAIRN_LOG_ERROR("state store: {}", s.ToString());
  }
}

namespace {

std::vector<scheduler::HeldTask> Held(const std::vector<wire::TaskRef>& tasks) {
  std::vector<scheduler::HeldTask> out;
  for (const auto& t : tasks) out.push_back(scheduler::HeldTask{t.job_id, t.attempt, t.finished});
  return out;
}

}  // namespace

Status Coordinator::OnHello(const wire::Peer& peer, const wire::WorkerHello& hello, const std::string& id) {
  if (hello.max_tasks == 0) return InvalidArgumentError("worker advertises no task slots (maxTasks = 0)");
  scheduler::WorkerState w;
  w.id = id;
  w.region = hello.region;
  w.free_slots = hello.max_tasks;
  w.tflops = hello.measured_tflops;
  w.price_per_hour_micros = hello.price_per_hour_micros;
  w.profile = hello.profile;
  w.verify_only = hello.verify_only;
  w.reputation = ledger::ReputationPpm(balances_.RecordOf(hello.identity_key)) / 1e6;
  std::vector<wire::Device> gpus;
  double gpu_tflops = 0;
  for (const auto& d : hello.devices) {
    if (d.kind == wire::DeviceKind::kCuda) {
      w.device = scheduler::Device::kCuda;
      ++w.gpus;
      gpus.push_back(d);
      gpu_tflops += d.bf16_tflops;
    }
    w.memory_bytes = std::max(w.memory_bytes, d.memory_bytes);
  }
  // A GPU worker is ranked by its GPUs' measured bf16 speed, not its fp32
  // start-up multiply.
  if (gpu_tflops > 0) w.tflops = gpu_tflops;
  gpus_by_worker_[id] = std::move(gpus);
  routing_by_worker_[id] = peer.routing_id;
  name_by_worker_[id] = hello.name;
  key_by_worker_[id] = hello.identity_key;  // before ReplicaOf, which names the payee
  // A serve task that outlived a coordinator restart: the gateway routes to
  // it again.
  for (const wire::TaskRef& t : hello.tasks) {
    auto job = cluster_->Job(t.job_id);
    if (t.serving_endpoint.empty() || !job.ok() || job->attempt != t.attempt || job->spec.kind != JobKind::kServe) continue;
    gateway_->AddReplica(ReplicaOf(*job, id, t.serving_endpoint, t.serving_task));
  }
  Apply(cluster_->Join(w, Held(hello.tasks)));
  return OkStatus();
}

scheduler::ReplicaInfo Coordinator::ReplicaOf(const scheduler::JobRecord& job, const std::string& worker,
                                              const std::string& endpoint, const std::string& task) {
  const size_t colon = endpoint.rfind(':');
  scheduler::ReplicaInfo r;
  r.model = job.spec.model;
  r.task = task;
  r.job_id = job.id;
  r.worker_id = worker;
  r.host = endpoint.substr(0, colon);
  r.port = std::atoi(endpoint.c_str() + colon + 1);
  r.worker_key = key_by_worker_[worker];
  auto model = view_.Model(job.spec.model);
  r.model_hash = model ? model->blob : "";
  r.license = model ? model->license : "";
  r.author_hex = model ? HexEncode(model->author) : "";
  r.finetune_fee_micros = model ? balances_.FinetuneFee(model->blob) : 0;
  r.per_request_micros = job.spec.price_per_request_micros;
  r.per_1k_tokens_micros = job.spec.price_per_1k_tokens_micros;
  r.worker_share_bps = job.spec.worker_share_bps;
  return r;
}

Status Coordinator::OnHeartbeat(const wire::Heartbeat& hb, const std::string& id) {
  heartbeats_.fetch_add(1);
  ASSIGN_OR_RETURN(std::vector<ClusterEvent> events, cluster_->Heartbeat(id, Held(hb.tasks)));
  if (!events.empty()) Apply(std::move(events));
  PersistDirty();
  return OkStatus();
}

wire::HandlerResult Coordinator::OnGoodbye(const wire::Peer& peer, const wire::Goodbye& bye) {
  std::string worker = base_->IdentityOf(peer);
  Apply(cluster_->Leave(worker));
  CAIRN_LOG_INFO("worker {} left: {}", worker, bye.reason);
  return std::optional<wire::Outgoing>();
}

void Coordinator::Tick() {
  rendezvous_->Touch();
  FlushUsage();
  const int64_t start = options_.clock->MonotonicNanos();
  auto events = cluster_->Tick();
  const double seconds = static_cast<double>(options_.clock->MonotonicNanos() - start) / 1e9;
  if (std::any_of(events.begin(), events.end(), [](const ClusterEvent& e) { return e.kind == ClusterEvent::kPlaced; })) {
    placement_latency_.Observe(seconds);
  }
  Apply(std::move(events));
  AuditRounds();
  RunChallenges();
  CloseEndedJobs();
  uint64_t alive = 0;
  for (const auto& [id, w] : cluster_->workers()) alive += w.alive;
  alive_.store(alive);
  dead_.store(cluster_->workers().size() - alive);
  queue_.store(cluster_->QueueDepth());
}

}  // namespace cairn::coordinator
