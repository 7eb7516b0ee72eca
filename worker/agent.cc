#include "worker/agent.h"

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <thread>
#include <tuple>

#include "runtime/base/log.h"
#include "runtime/base/mutex.h"
#include "runtime/wire/client.h"
#include "runtime/wire/hello.h"

namespace cairn::worker {
namespace {

// (job, attempt, rank): a worker dropped from an elastic job and added back
// to the same attempt comes back under a new rank (uid), a new task.
using TaskKey = std::tuple<std::string, uint32_t, uint32_t>;

// One task thread and what the bus thread needs to know about it.
struct Running {
  wire::TaskAssign task;
  std::atomic<bool> cancel{false};
  std::atomic<bool> done{false};
  bool revoked = false;  // bus thread
  Mutex mu;
  std::string serving_endpoint GUARDED_BY(mu), serving_task GUARDED_BY(mu);
  std::thread thread;
};

// Log lines from task threads, sent best effort by the bus thread.
class LogQueue {
 public:
  explicit LogQueue(size_t max) : max_(max) {}
  void Push(wire::TaskUpdate u) {
    MutexLock lock(&mu_);
    if (lines_.size() >= max_) lines_.pop_front();
    lines_.push_back(std::move(u));
  }
  std::deque<wire::TaskUpdate> Take() {
    MutexLock lock(&mu_);
    std::deque<wire::TaskUpdate> out;
    out.swap(lines_);
    return out;
  }

 private:
  const size_t max_;
  Mutex mu_;
  std::deque<wire::TaskUpdate> lines_ GUARDED_BY(mu_);
};

std::string Describe(const wire::TaskUpdate& u) {
  if (std::holds_alternative<wire::TaskReceipt>(u.body)) return "signed entry";
  if (std::holds_alternative<wire::TaskFinished>(u.body)) return "task result";
  if (std::holds_alternative<wire::TaskServing>(u.body)) return "serving notice";
  return "message";
}

}  // namespace

// The bus thread's state for one Run().
struct WorkerAgent::Loop {
  WorkerAgent* agent;
  const Clock* clock;
  std::unique_ptr<wire::WireClient> client;
  LogQueue logs;
  std::map<TaskKey, std::unique_ptr<Running>> tasks;  // running, or revoked and still stopping
  std::set<TaskKey> ended;                            // ran here (finished or revoked): a re-sent assign is ignored
  std::deque<TaskKey> ended_order;
  bool registered = false;
  bool stopping = false;     // no new tasks once Run() is winding down
  int64_t interval_ms = 1000, liveness = 3;
  int64_t last_heard = 0, next_beat = 0, hello_at = -1'000'000'000;
  uint64_t beat_seq = 0;
  uint64_t inflight = 0;     // outbox sequence sent and not yet acked
  int64_t inflight_at = 0;
  int64_t retry_after = 0;   // an Unavailable ack: wait before the next send

  explicit Loop(WorkerAgent* a) : agent(a), clock(a->options_.clock), logs(a->options_.max_log_lines) {}
  int64_t Now() const { return clock->MonotonicNanos() / 1'000'000; }

  void Remember(const TaskKey& k) {
    if (!ended.insert(k).second) return;
    ended_order.push_back(k);
    if (ended_order.size() > 4096) {
      ended.erase(ended_order.front());
      ended_order.pop_front();
    }
  }

  std::vector<wire::TaskRef> Held() {
    std::vector<wire::TaskRef> out;
    const auto finished = agent->outbox_->UnackedFinished();
    // Results not yet acknowledged first: were the list cut, the coordinator
    // would take a missing one for a lost task.
    for (const auto& [job, attempt] : finished) out.push_back(wire::TaskRef{job, attempt, true, "", ""});
    for (const auto& [key, r] : tasks) {
      const auto& [job, attempt, rank] = key;
      if (r->revoked || finished.count({job, attempt})) continue;
      wire::TaskRef ref{job, attempt, false, "", ""};
      {
        MutexLock lock(&r->mu);
        ref.serving_endpoint = r->serving_endpoint;
        ref.serving_task = r->serving_task;
      }
      out.push_back(std::move(ref));
    }
    if (out.size() > 64) out.resize(64);
    return out;
  }

  void SendHello() {
    const AgentOptions& o = agent->options_;
    wire::WorkerHello hello;
    hello.name = o.name;
    hello.region = o.region;
    hello.price_per_hour_micros = o.price_per_hour_micros;
    hello.max_tasks = o.max_tasks;
    hello.devices = o.devices;
    hello.measured_tflops = o.measured_tflops;
    hello.sent_unix_millis = clock->NowUnixMillis();
    hello.tasks = Held();
    hello.profile = o.profile;
    hello.verify_only = o.verify_only;
    if (wire::SignWorkerHello(agent->identity_, &hello).ok()) (void)client->Send(hello);
    hello_at = Now();
  }

  void Reap() {
    for (auto it = tasks.begin(); it != tasks.end();) {
      if (it->second->done) {
        if (it->second->thread.joinable()) it->second->thread.join();  // it has returned: no wait
        Remember(it->first);  // it ran here: a late copy of its assignment is not started again
        it = tasks.erase(it);
      } else {
        ++it;
      }
    }
  }

  void Start(const wire::TaskAssign& t) {
    const TaskKey key{t.job_id, t.attempt, t.rank};
    if (stopping) return;  // not listed in our heartbeats: the coordinator sees we did not take it
    if (tasks.count(key) || ended.count(key) || agent->outbox_->UnackedFinished().count({t.job_id, t.attempt})) {
      agent->dup_.fetch_add(1);  // a resend: this worker has it, had it, or was told to drop it
      return;
    }
    // A new attempt of a job this worker still runs: the old one stops first.
    for (auto& [k, r] : tasks) {
      if (std::get<0>(k) == t.job_id && !r->revoked) {
        r->cancel = true;
        r->revoked = true;
        Remember(k);
      }
    }
    uint32_t busy = 0;
    for (const auto& [k, r] : tasks) busy += !r->revoked && !r->done;
    if (busy >= agent->options_.max_tasks) {
      Remember(key);
      (void)agent->outbox_->Push(
          wire::TaskUpdate{t.job_id, t.attempt, wire::TaskFinished{false, "worker is at capacity", static_cast<uint16_t>(StatusCode::kAborted)}, 0});
      return;
    }
    auto r = std::make_unique<Running>();
    r->task = t;
    Running* raw = r.get();
    agent->started_.fetch_add(1);
    CAIRN_LOG_INFO("task {} rank {}/{} (attempt {})", t.job_id, t.rank, t.world_size, t.attempt);
    WorkerAgent* a = agent;
    LogQueue* log_queue = &logs;
    raw->thread = std::thread([a, raw, log_queue] {
      const wire::TaskAssign& task = raw->task;
      TaskIo io;
      io.log = [&](const std::string& line) {
        log_queue->Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskLogLine{line.substr(0, 4000)}, 0});
      };
      io.receipt = [&](const std::string& entry, std::string blob) -> Status {
        return a->outbox_->Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskReceipt{entry}, 0}, std::move(blob)).status();
      };
      io.serving = [&](const std::string& endpoint, const std::string& what) -> Status {
        {
          MutexLock lock(&raw->mu);
          raw->serving_endpoint = endpoint;
          raw->serving_task = what;
        }
        return a->outbox_->Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskServing{endpoint, what}, 0}).status();
      };
      StatusOr<std::string> result = InternalError("the task runner did not return");
      try {  // the exception barrier: nothing a task throws reaches the worker
        result = a->runner_(task, raw->cancel, io);
      } catch (const std::exception& e) {
        result = InternalError(std::string("the task threw: ") + e.what());
      } catch (...) {
        result = InternalError("the task threw a non-standard exception");
      }
      if (!raw->cancel) {
        wire::TaskFinished f{result.ok(), result.ok() ? *result : std::string(result.status().message()),
                             static_cast<uint16_t>(result.status().code())};
        f.message = f.message.substr(0, 4000);
        Status pushed = a->outbox_->Push(wire::TaskUpdate{task.job_id, task.attempt, f, 0}).status();
        if (!pushed.ok()) CAIRN_LOG_ERROR("task {}: cannot record its result: {}", task.job_id, pushed.ToString());
      }
      a->finished_.fetch_add(1);
      raw->done = true;
    });
    tasks[key] = std::move(r);
  }

  void Revoke(const wire::TaskRevoke& rv) {
    // Only what runs here: the same attempt may be assigned again later (a
    // worker dropped from an elastic job and added back, under a new rank).
    for (auto& [k, r] : tasks) {
      const auto& [job, attempt, rank] = k;
      if (job != rv.job_id || (rv.attempt != 0 && attempt != rv.attempt) || r->revoked) continue;
      CAIRN_LOG_INFO("task {} (attempt {}, rank {}) revoked: {}", job, attempt, rank, rv.reason);
      r->cancel = true;  // the thread returns on its own; Reap() joins it
      r->revoked = true;
      Remember(k);
    }
  }

  void OnAck(const wire::Ack& ack) {
    if (ack.code == static_cast<uint16_t>(StatusCode::kUnavailable)) {
      retry_after = Now() + agent->options_.resend_ms;  // not now: same record again later
      if (ack.sequence == inflight) inflight = 0;
      return;
    }
    if (ack.code != 0) {
      agent->refused_.fetch_add(1);
      CAIRN_LOG_WARN("the coordinator refused outbox record {}: {}", ack.sequence, ack.message);
    }
    Status s = agent->outbox_->Ack(ack.sequence, ack.code, ack.message);
    if (!s.ok()) CAIRN_LOG_ERROR("outbox: {}", s.ToString());
    agent->acked_.fetch_add(1);
    if (ack.sequence == inflight) inflight = 0;
  }

  // Stop-and-wait: the head goes out once, and again only if unacknowledged
  // for resend_ms.
  void Drain() {
    const int64_t now = Now();
    if (!registered || now < retry_after) return;
    if (inflight != 0 && now - inflight_at < agent->options_.resend_ms) return;
    auto head = agent->outbox_->Head();
    if (!head) return;
    if (client->Send(head->update).ok()) {
      if (inflight == head->sequence) CAIRN_LOG_INFO("outbox: sending {} {} again", Describe(head->update), head->sequence);
      inflight = head->sequence;
      inflight_at = now;
      agent->sent_.fetch_add(1);
    }
  }

  void Handle(const wire::Incoming& in) {
    switch (in.type) {
      case wire::MessageType::kWelcome: {
        auto w = wire::Decode<wire::Welcome>(in.payload);
        if (!w.ok()) return;
        registered = true;
        inflight = 0;  // whatever was in flight went to the coordinator before: send it again
        retry_after = 0;
        interval_ms = std::max<int64_t>(50, w->heartbeat_interval_millis);
        liveness = std::max<int64_t>(1, w->heartbeat_liveness);
        next_beat = 0;
        agent->registrations_.fetch_add(1);
        CAIRN_LOG_INFO("registered with the coordinator as {} ({} task(s) held, {} record(s) to deliver)", w->worker_id,
                       tasks.size(), agent->outbox_->pending());
        return;
      }
      case wire::MessageType::kError: {
        auto e = wire::Decode<wire::ErrorReply>(in.payload);
        if (e.ok() && e->code == static_cast<uint16_t>(StatusCode::kNotFound)) {
          registered = false;  // the coordinator restarted and forgot us
          SendHello();
        } else if (e.ok()) {
          CAIRN_LOG_WARN("coordinator: {}", wire::StatusFromErrorReply(*e).ToString());
        }
        return;
      }
      case wire::MessageType::kAck: {
        auto a = wire::Decode<wire::Ack>(in.payload);
        if (a.ok()) OnAck(*a);
        return;
      }
      case wire::MessageType::kTaskAssign: {
        auto t = wire::Decode<wire::TaskAssign>(in.payload);
        if (!t.ok()) return;
        Reap();
        Start(*t);
        return;
      }
      case wire::MessageType::kHeartbeat: {
        auto hb = wire::Decode<wire::Heartbeat>(in.payload);
        if (hb.ok() && !hb->challenges.empty() && agent->options_.on_challenges) agent->options_.on_challenges(hb->challenges);
        return;
      }
      case wire::MessageType::kTaskRevoke: {
        auto rv = wire::Decode<wire::TaskRevoke>(in.payload);
        if (rv.ok()) Revoke(*rv);
        return;
      }
      default:
        return;
    }
  }

  void Step() {
    const int64_t now = Now();
    if (!registered && now - hello_at >= agent->options_.hello_retry_ms) SendHello();
    if (registered && now - last_heard > interval_ms * liveness) {
      CAIRN_LOG_WARN("coordinator silent for {} ms; registering again", now - last_heard);
      registered = false;
      SendHello();
    }
    Reap();
    if (registered && now >= next_beat) {
      auto held = Held();
      uint32_t running = 0;
      for (const auto& t : held) running += !t.finished;
      (void)client->Send(wire::Heartbeat{++beat_seq, clock->NowUnixMillis(), running, std::move(held), {}});
      next_beat = now + interval_ms;
    }
    if (registered) {
      for (wire::TaskUpdate& u : logs.Take()) (void)client->Send(u);
    }
    Drain();
    auto in = client->Receive(20);
    if (!in.ok()) return;
    last_heard = Now();
    Handle(*in);
  }
};

WorkerAgent::WorkerAgent(Ed25519PrivateKey identity, AgentOptions options, Outbox* outbox, TaskRunner runner)
    : identity_(std::move(identity)), options_(std::move(options)), outbox_(outbox), runner_(std::move(runner)) {}

AgentStats WorkerAgent::stats() const {
  return AgentStats{registrations_.load(), started_.load(), finished_.load(), sent_.load(),
                    acked_.load(),         refused_.load(), dup_.load()};
}

Status WorkerAgent::Run(const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(auto context, wire::WireContext::Create(wire::Enrollment::kOpen));
  ASSIGN_OR_RETURN(wire::CurveKeyPair keys, wire::CurveKeysOf(identity_));
  Loop loop(this);
  ASSIGN_OR_RETURN(loop.client, wire::WireClient::Connect(context.get(), wire::ClientOptions{options_.coordinator,
                                                                                              options_.coordinator_key,
                                                                                              keys}));
  loop.last_heard = loop.Now();
  while (!stop) loop.Step();

  // Stopping: tasks first (they return within a step), then what they left
  // in the outbox, then goodbye, which hands the leases back at once.
  loop.stopping = true;
  for (auto& [k, r] : loop.tasks) r->cancel = true;
  const int64_t until = loop.Now() + options_.drain_ms;
  while (loop.Now() < until && outbox_->pending() > 0 && loop.registered) loop.Step();
  (void)loop.client->Send(wire::Goodbye{"worker stopping"});
  (void)loop.client->Receive(100);  // let the goodbye leave before the socket closes
  for (auto& [k, r] : loop.tasks) {
    if (r->thread.joinable()) r->thread.join();
  }
  return OkStatus();
}

}  // namespace cairn::worker
