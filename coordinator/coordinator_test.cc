// The coordinator over real CURVE sockets on loopback, with simulated
// workers (each its own identity and connection) and a client: placement,
// completion, a worker going silent mid-job, cancel, field-level spec errors,
// and the ledger recording it all and verifying.
#include "coordinator/coordinator.h"

#include <atomic>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "ledger/entry.h"
#include "ledger/verify.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"
#include "runtime/base/temp_dir.h"
#include "runtime/wire/client.h"
#include "runtime/wire/hello.h"

namespace cairn::coordinator {
namespace {

const char kBench2[] = "name: bench\nkind: benchmark\nresources: {workers: 2}\nbenchmark: {seconds: 1}\n";

// A worker stand-in: says hello, heartbeats, and finishes each task it is
// given after `task_ms` — unless silenced (as good as kill -9).
class SimWorker {
 public:
  SimWorker(Coordinator* c, const std::string& name, int task_ms) : key_(Ed25519PrivateKey::Generate().value()) {
    thread_ = std::thread([this, c, name, task_ms] { Run(c, name, task_ms); });
    while (!ready_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~SimWorker() {
    stop_ = true;
    thread_.join();
  }
  void Silence() { silent_ = true; }
  // Before finishing each task, register a model naming `account` (64 hex
  // digits) as its author, as a training leader does.
  void RegisterModelsPaying(const std::string& account) {
    std::lock_guard<std::mutex> l(mu_);
    royalties_to_ = account;
  }
  std::string id() const { return key_.public_key().KeyId(); }
  int tasks() const { return tasks_.load(); }
  int revoked() const { return revoked_.load(); }

 private:
  void Run(Coordinator* c, const std::string& name, int task_ms) {
    auto ctx = wire::WireContext::Create(wire::Enrollment::kOpen).value();
    wire::ClientOptions o{c->endpoint(), c->curve_public_key(), wire::CurveKeysOf(key_).value()};
    auto client = wire::WireClient::Connect(ctx.get(), o).value();
    wire::WorkerHello hello;
    hello.name = name;
    hello.region = "local";
    hello.max_tasks = 1;
    hello.measured_tflops = 1;
    hello.sent_unix_millis = Clock::System()->NowUnixMillis();
    EXPECT_TRUE(wire::SignWorkerHello(key_, &hello).ok());
    EXPECT_TRUE(client->Send(hello).ok());
    auto welcome = client->Receive(5000);
    EXPECT_TRUE(welcome.ok() && welcome->type == wire::MessageType::kWelcome);
    ready_ = true;
    std::vector<std::pair<int64_t, wire::TaskAssign>> running;
    int64_t next_beat = 0;
    while (!stop_) {
      if (silent_) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      int64_t now = Clock::System()->MonotonicNanos() / 1'000'000;
      if (now >= next_beat) {
        (void)client->Send(wire::Heartbeat{0, Clock::System()->NowUnixMillis(), 0});
        next_beat = now + 100;
      }
      for (auto it = running.begin(); it != running.end();) {
        if (now >= it->first) {
          (void)client->Send(wire::TaskUpdate{it->second.job_id, it->second.attempt, wire::TaskLogLine{"working"}});
          if (std::string entry = ModelEntry(it->second.job_id); !entry.empty()) {
            (void)client->Send(wire::TaskUpdate{it->second.job_id, it->second.attempt, wire::TaskReceipt{entry}});
          }
          (void)client->Send(wire::TaskUpdate{it->second.job_id, it->second.attempt, wire::TaskFinished{true, "done"}});
          it = running.erase(it);
        } else {
          ++it;
        }
      }
      auto in = client->Receive(20);
      if (!in.ok()) continue;
      if (in->type == wire::MessageType::kTaskAssign) {
        auto a = wire::Decode<wire::TaskAssign>(in->payload).value();
        ++tasks_;
        running.push_back({now + task_ms, a});
      } else if (in->type == wire::MessageType::kTaskRevoke) {
        ++revoked_;
        auto r = wire::Decode<wire::TaskRevoke>(in->payload).value();
        running.erase(std::remove_if(running.begin(), running.end(),
                                     [&](const auto& t) { return t.second.job_id == r.job_id; }),
                      running.end());
      }
    }
    (void)client->Send(wire::Goodbye{"test over"});
  }

  std::string ModelEntry(const std::string& job) {
    std::string to;
    {
      std::lock_guard<std::mutex> l(mu_);
      to = royalties_to_;
    }
    if (to.empty()) return "";
    const std::string hash = Sha256Bytes(job + key_.public_key().KeyId());
    auto e = ledger::MakeEntry(key_, Clock::System()->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto m = b.initModelRegistered();
      m.setName("model-of-" + job);
      m.setModelHash(ledger::AsData(hash));
      m.setJobId(job);
      m.setLicense("MIT");
      m.setAuthor(ledger::AsData(HexDecode(to).value()));
    });
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : "";
  }

  Ed25519PrivateKey key_;
  std::mutex mu_;
  std::string royalties_to_;
  std::thread thread_;
  std::atomic<bool> ready_{false}, stop_{false}, silent_{false};
  std::atomic<int> tasks_{0}, revoked_{0};
};

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions o;
    o.data_dir = dir_.path() + "/coord";
    o.cluster.heartbeat_interval_ms = 100;
    o.cluster.liveness = 3;
    o.tick_ms = 25;
    coordinator_ = Coordinator::Start(o).value();
    ctx_ = wire::WireContext::Create(wire::Enrollment::kOpen).value();
    wire::ClientOptions co{coordinator_->endpoint(), coordinator_->curve_public_key(),
                           wire::CurveKeysOf(Ed25519PrivateKey::Generate().value()).value()};
    client_ = wire::WireClient::Connect(ctx_.get(), co).value();
  }
  void TearDown() override {
    client_.reset();
    ctx_.reset();
    coordinator_.reset();
  }
  StatusOr<wire::ClientReply> Call(decltype(wire::ClientRequest::body) body) {
    return client_->Call(wire::ClientRequest{++rid_, 0, std::move(body)}, 5000);
  }
  std::string Submit(const std::string& yaml) {
    auto r = Call(wire::SubmitBody{yaml, "job.yaml"});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::get<wire::SubmittedBody>(r->body).job_id : "";
  }
  wire::JobInfo Status(const std::string& id) { return std::get<wire::JobInfo>(Call(wire::JobStatusBody{id})->body); }
  bool WaitFor(const std::string& id, const std::string& state, int ms = 10000) {
    for (int t = 0; t < ms; t += 20) {
      if (Status(id).state == state) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  ScopedTempDir dir_{"cairn-coord"};
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<wire::WireContext> ctx_;
  std::unique_ptr<wire::WireClient> client_;
  uint64_t rid_ = 0;
};

TEST_F(CoordinatorTest, PlacesABenchmarkJobOnTwoWorkersAndItCompletes) {
  SimWorker a(coordinator_.get(), "a", 200), b(coordinator_.get(), "b", 200), c(coordinator_.get(), "c", 200);
  std::string id = Submit(kBench2);
  ASSERT_EQ(id.rfind("bench-", 0), 0u) << id;
  ASSERT_TRUE(WaitFor(id, "succeeded")) << Status(id).state << ": " << Status(id).message;
  EXPECT_EQ(a.tasks() + b.tasks() + c.tasks(), 2);
  auto workers = std::get<wire::WorkersBody>(Call(wire::ListWorkersBody{})->body).workers;
  EXPECT_EQ(workers.size(), 3u);
  auto logs = std::get<wire::LogsChunk>(Call(wire::JobLogsBody{id, 0})->body);
  EXPECT_TRUE(logs.finished);
  EXPECT_GE(logs.lines.size(), 4u);
  EXPECT_GE(coordinator_->stats().heartbeats, 3u);
}

TEST_F(CoordinatorTest, ASilentWorkersShareIsRequeuedAndTheJobCompletes) {
  SimWorker a(coordinator_.get(), "a", 1500), b(coordinator_.get(), "b", 1500), c(coordinator_.get(), "c", 200);
  // c finishes fast but has only one slot: occupy it first so a and b get the job.
  std::string filler = Submit("name: filler\nkind: benchmark\n");
  for (int t = 0; t < 200 && c.tasks() + a.tasks() + b.tasks() == 0; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string id = Submit(kBench2);
  for (int t = 0; t < 500 && Status(id).state != "running"; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(Status(id).state, "running");
  std::vector<std::string> placed = Status(id).workers;
  // Silence one of the two (as good as kill -9).
  (placed[0] == a.id() ? a : placed[0] == b.id() ? b : c).Silence();
  ASSERT_TRUE(WaitFor(id, "succeeded", 15000)) << Status(id).message;
  EXPECT_EQ(Status(id).attempt, 2u);
  EXPECT_EQ(Status(id).retries, 1u);
  ASSERT_TRUE(WaitFor(filler, "succeeded"));
}

TEST_F(CoordinatorTest, BadSpecsAreRefusedWithFieldMessagesAndJobsCanBeCancelled) {
  auto bad = Call(wire::SubmitBody{"name: x\nkind: benchmark\nresources: {workers: lots}\n", "bad.yaml"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.yaml:3: resources.workers"), std::string::npos) << bad.status();
  std::string id = Submit("name: waits\nkind: benchmark\nresources: {workers: 5}\n");  // never fits
  EXPECT_EQ(Status(id).state, "queued");
  ASSERT_TRUE(Call(wire::CancelBody{id}).ok());
  EXPECT_EQ(Status(id).state, "cancelled");
  EXPECT_EQ(Call(wire::CancelBody{id}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Call(wire::JobStatusBody{"nope"}).status().code(), StatusCode::kNotFound);
}

// A training leader registers the job's model; the author it names (the
// royalties' payee) must be the submitted spec's output.author (which
// `cairn submit` sets to the submitter). A worker that names itself is
// refused and nothing is registered; one that names the spec's is appended.
TEST_F(CoordinatorTest, AModelsRoyaltiesGoWhereTheSpecSaysNotWhereTheWorkerSays) {
  const std::string author(64, 'a'), worker_itself(64, 'e');
  const std::string spec = "name: bench\nkind: benchmark\nresources: {workers: 1}\nbenchmark: {seconds: 1}\n"
                           "output: {author: " + author + "}\n";
  auto models_registered = [&] {
    ledger::Log& log = coordinator_->ledger();
    int n = 0;
    for (uint64_t i = 0; i < log.store().Size().value(); ++i) {
      auto h = ledger::ValidateEntry(log.store().Entry(i).value());
      if (h.ok() && ledger::EntryTypeName(h->type) == "modelRegistered") ++n;
    }
    return n;
  };
  auto logs = [&](const std::string& id) {
    std::string all;
    auto r = Call(wire::JobLogsBody{id, 0});
    if (r.ok()) for (const auto& l : std::get<wire::LogsChunk>(r->body).lines) all += l + "\n";
    return all;
  };
  SimWorker w(coordinator_.get(), "w", 50);
  w.RegisterModelsPaying(worker_itself);
  std::string greedy = Submit(spec);
  ASSERT_TRUE(WaitFor(greedy, "succeeded"));
  EXPECT_NE(logs(greedy).find("modelRegistered.author differs from job " + greedy + "'s output.author"), std::string::npos)
      << logs(greedy);
  w.RegisterModelsPaying(author);
  std::string honest = Submit(spec);
  ASSERT_TRUE(WaitFor(honest, "succeeded"));
  for (int t = 0; t < 200 && models_registered() < 1; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(models_registered(), 1) << logs(honest);
  EXPECT_EQ(logs(honest).find("receipt refused"), std::string::npos) << logs(honest);
}

TEST_F(CoordinatorTest, TheLedgerRecordsSubmissionsAndPlacementsAndVerifies) {
  {
    SimWorker a(coordinator_.get(), "a", 100), b(coordinator_.get(), "b", 100);
    std::string id = Submit(kBench2);
    ASSERT_TRUE(WaitFor(id, "succeeded"));
  }
  ledger::Log& log = coordinator_->ledger();
  for (int t = 0; t < 200 && log.size() < 2; ++t) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_GE(log.size(), 2u);
  auto reader = ledger::NewStoreReader(&log.store(), "coordinator");
  auto report = ledger::VerifyLog(*reader, log.verifier());
  ASSERT_TRUE(report.ok()) << report.status();
}

}  // namespace
}  // namespace cairn::coordinator
