#include "worker/agent.h"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "runtime/base/clock.h"
#include "runtime/base/log.h"
#include "runtime/wire/client.h"
#include "runtime/wire/hello.h"

namespace cairn::worker {
namespace {

int64_t NowMs() { return Clock::System()->MonotonicNanos() / 1'000'000; }

// One running task: its thread and its cancel flag.
struct Running {
  wire::TaskAssign task;
  std::atomic<bool> cancel{false};
  std::atomic<bool> done{false};
  std::thread thread;
};

// Messages from task threads to the bus thread.
class Outbox {
 public:
  void Push(wire::TaskUpdate u) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(u));
  }
  std::deque<wire::TaskUpdate> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::deque<wire::TaskUpdate> out;
    out.swap(queue_);
    return out;
  }

 private:
  std::mutex mu_;
  std::deque<wire::TaskUpdate> queue_;
};

}  // namespace

WorkerAgent::WorkerAgent(Ed25519PrivateKey identity, AgentOptions options, TaskRunner runner)
    : identity_(std::move(identity)), options_(std::move(options)), runner_(std::move(runner)) {}

AgentStats WorkerAgent::stats() const { return AgentStats{connects_.load(), started_.load(), finished_.load()}; }

Status WorkerAgent::Run(const std::atomic<bool>& stop) {
  ASSIGN_OR_RETURN(auto context, wire::WireContext::Create(wire::Enrollment::kOpen));
  ASSIGN_OR_RETURN(wire::CurveKeyPair keys, wire::CurveKeysOf(identity_));
  Outbox outbox;
  std::map<std::string, std::unique_ptr<Running>> running;  // by job id
  int backoff_ms = 1000;

  // Joins finished task threads (all of them, cancelling first, if `all`).
  auto reap = [&](bool all) {
    for (auto it = running.begin(); it != running.end();) {
      if (all) it->second->cancel = true;
      if (all || it->second->done) {
        if (it->second->thread.joinable()) it->second->thread.join();
        it = running.erase(it);
      } else {
        ++it;
      }
    }
  };

  while (!stop) {
    ASSIGN_OR_RETURN(auto client, wire::WireClient::Connect(context.get(), wire::ClientOptions{options_.coordinator,
                                                                                                options_.coordinator_key,
                                                                                                keys}));
    connects_.fetch_add(1);
    bool registered = false;
    int64_t interval = 1000, liveness = 3;
    int64_t last_heard = NowMs(), next_beat = 0, hello_at = -1;
    uint64_t seq = 0;
    auto send_hello = [&] {
      wire::WorkerHello hello;
      hello.name = options_.name;
      hello.region = options_.region;
      hello.price_per_hour_micros = options_.price_per_hour_micros;
      hello.max_tasks = options_.max_tasks;
      hello.devices = options_.devices;
      hello.measured_tflops = options_.measured_tflops;
      hello.sent_unix_millis = Clock::System()->NowUnixMillis();
      if (wire::SignWorkerHello(identity_, &hello).ok()) (void)client->Send(hello);
      hello_at = NowMs();
      registered = false;
    };
    send_hello();
    while (!stop) {
      int64_t now = NowMs();
      if (!registered && now - hello_at > 3000) break;           // no welcome: reconnect
      if (registered && now - last_heard > interval * liveness) {  // coordinator silent
        CAIRN_LOG_WARN("coordinator silent for {} ms; reconnecting", now - last_heard);
        break;
      }
      if (registered && now >= next_beat) {
        uint32_t n = 0;
        for (const auto& [id, r] : running) n += !r->done;
        (void)client->Send(wire::Heartbeat{++seq, Clock::System()->NowUnixMillis(), n});
        next_beat = now + interval;
      }
      for (wire::TaskUpdate& u : outbox.Take()) (void)client->Send(u);
      auto in = client->Receive(50);
      if (!in.ok()) continue;
      last_heard = NowMs();
      switch (in->type) {
        case wire::MessageType::kWelcome: {
          auto w = wire::Decode<wire::Welcome>(in->payload);
          if (!w.ok()) break;
          registered = true;
          backoff_ms = 1000;
          // A (re)registration: the coordinator treats whatever this worker
          // ran before as lost and requeues it, so stop those tasks now
          // rather than let them hold slots it believes are free.
          if (!running.empty()) {
            CAIRN_LOG_INFO("re-registered: stopping {} task(s) from before", running.size());
            reap(true);
          }
          interval = std::max<int64_t>(50, w->heartbeat_interval_millis);
          liveness = std::max<int64_t>(1, w->heartbeat_liveness);
          CAIRN_LOG_INFO("registered with the coordinator as {}", w->worker_id);
          break;
        }
        case wire::MessageType::kError: {
          auto e = wire::Decode<wire::ErrorReply>(in->payload);
          if (e.ok() && e->code == static_cast<uint16_t>(StatusCode::kNotFound)) {
            send_hello();  // the coordinator restarted and forgot us
          } else if (e.ok()) {
            CAIRN_LOG_WARN("coordinator: {}", wire::StatusFromErrorReply(*e).ToString());
          }
          break;
        }
        case wire::MessageType::kTaskAssign: {
          auto t = wire::Decode<wire::TaskAssign>(in->payload);
          if (!t.ok()) break;
          reap(false);
          // A new attempt of a job this worker still runs (the coordinator
          // restarted, or requeued it here): the old attempt stops first.
          if (auto old = running.find(t->job_id); old != running.end() && old->second->task.attempt != t->attempt) {
            old->second->cancel = true;
            if (old->second->thread.joinable()) old->second->thread.join();
            running.erase(old);
          }
          if (running.count(t->job_id) || running.size() >= options_.max_tasks) {
            outbox.Push(wire::TaskUpdate{t->job_id, t->attempt, wire::TaskFinished{false, "worker is at capacity"}});
            break;
          }
          auto r = std::make_unique<Running>();
          r->task = *t;
          Running* raw = r.get();
          started_.fetch_add(1);
          CAIRN_LOG_INFO("task {} rank {}/{} (attempt {})", t->job_id, t->rank, t->world_size, t->attempt);
          raw->thread = std::thread([this, raw, &outbox] {
            const wire::TaskAssign& task = raw->task;
            TaskIo io;
            io.log = [&](const std::string& line) {
              outbox.Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskLogLine{line}});
            };
            io.receipt = [&](const std::string& entry) {
              outbox.Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskReceipt{entry}});
            };
            io.serving = [&](const std::string& endpoint, const std::string& what) {
              outbox.Push(wire::TaskUpdate{task.job_id, task.attempt, wire::TaskServing{endpoint, what}});
            };
            auto result = runner_(task, raw->cancel, io);
            if (!raw->cancel) {
              outbox.Push(wire::TaskUpdate{task.job_id, task.attempt,
                                           wire::TaskFinished{result.ok(), result.ok() ? *result : result.status().ToString()}});
            }
            finished_.fetch_add(1);
            raw->done = true;
          });
          running[t->job_id] = std::move(r);
          break;
        }
        case wire::MessageType::kTaskRevoke: {
          auto rv = wire::Decode<wire::TaskRevoke>(in->payload);
          if (!rv.ok()) break;
          auto it = running.find(rv->job_id);
          if (it != running.end()) {
            CAIRN_LOG_INFO("task {} revoked: {}", rv->job_id, rv->reason);
            it->second->cancel = true;
            if (it->second->thread.joinable()) it->second->thread.join();
            running.erase(it);
          }
          break;
        }
        default:
          break;
      }
    }
    if (stop) {
      reap(true);
      (void)client->Send(wire::Goodbye{"worker stopping"});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the goodbye leave
      break;
    }
    // Reconnect after a backoff; tasks keep running meanwhile.
    for (int waited = 0; waited < backoff_ms && !stop; waited += 50) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff_ms = std::min(backoff_ms * 2, options_.max_backoff_ms);
  }
  reap(true);
  return OkStatus();
}

}  // namespace cairn::worker
