// The coordinator over real CURVE sockets on loopback, with real worker
// agents (worker/agent.h, each with its own identity and a real SQLite
// outbox) whose tasks are test functions, and a client: placement and
// completion, idempotent receipts (a resent entry lands once, a different
// receipt for the same round is refused), royalties as the spec says,
// retries by status code, cancel, a coordinator restart that re-adopts a
// running task, and a ledger that verifies after all of it.
#include "coordinator/coordinator.h"
#include "coordinator/submission.h"

#include <atomic>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "ledger/entry.h"
#include "ledger/log_reader.h"
#include "ledger/verify.h"
#include "runtime/base/encoding.h"
#include "runtime/base/temp_dir.h"
#include "runtime/crypto/sha256.h"
#include "runtime/wire/client.h"
#include "worker/agent.h"

namespace cairn::coordinator {
namespace {

const char kBench2[] = "name: bench\nkind: benchmark\nresources: {workers: 2}\nbenchmark: {seconds: 1}\n";
const char kBench1[] = "name: bench\nkind: benchmark\nresources: {workers: 1}\nbenchmark: {seconds: 1}\n";

// Polls `pred` until it holds or `ms` pass.
bool Eventually(const std::function<bool()>& pred, int ms = 10000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// A worker: a real agent and outbox; `runner` is what its tasks do.
class TestWorker {
 public:
  // Pass `key` when the runner signs with it: a runner that reached for the
  // TestWorker instead would read it across a ZeroMQ hand-off TSan cannot see.
  TestWorker(Coordinator* c, const std::string& name, worker::TaskRunner runner,
             Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value())
      : key_(std::move(key)) {
    outbox_ = worker::Outbox::Open(dir_.path() + "/outbox.db").value();
    worker::AgentOptions o;
    o.coordinator = c->endpoint();
    o.coordinator_key = c->curve_public_key();
    o.name = name;
    o.hello_retry_ms = 200;
    o.resend_ms = 300;
    agent_ = std::make_unique<worker::WorkerAgent>(key_, o, outbox_.get(), std::move(runner));
    thread_ = std::thread([this] { EXPECT_TRUE(agent_->Run(stop_).ok()); });
  }
  ~TestWorker() {
    stop_ = true;
    thread_.join();
  }
  std::string id() const { return key_.public_key().KeyId(); }
  const Ed25519PrivateKey& key() const { return key_; }
  worker::AgentStats stats() const { return agent_->stats(); }
  worker::Outbox& outbox() { return *outbox_; }

 private:
  ScopedTempDir dir_{"cairn-test-worker"};
  Ed25519PrivateKey key_;
  std::unique_ptr<worker::Outbox> outbox_;
  std::unique_ptr<worker::WorkerAgent> agent_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A valid step receipt for `round` of the task, signed by `key`.
std::string StepReceipt(const Ed25519PrivateKey& key, const wire::TaskAssign& t, uint64_t round, double loss) {
  return ledger::MakeEntry(key, Clock::System()->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
           auto s = b.initStepReceipt();
           s.setJobId(t.job_id);
           s.setAttempt(t.attempt);
           s.setRound(round);
           s.setSteps(1);
           s.setFingerprintBefore(ledger::AsData(std::string(32, 'b')));
           s.setFingerprintAfter(ledger::AsData(std::string(32, 'a')));
           s.setLoss(loss);
         }).value();
}

// A task that takes `ms` and succeeds.
worker::TaskRunner Sleeps(int ms) {
  return [ms](const wire::TaskAssign&, const std::atomic<bool>& cancel, const worker::TaskIo& io) -> StatusOr<std::string> {
    io.log("working");
    for (int t = 0; t < ms && !cancel; t += 5) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (cancel) return CancelledError("revoked");
    return std::string("done");
  };
}

class CoordinatorTest : public ::testing::Test {
 protected:
  void SetUp() override { StartCoordinator(); }
  void TearDown() override {
    client_.reset();
    ctx_.reset();
    coordinator_.reset();
  }
  void StartCoordinator(const std::string& bus = "tcp://127.0.0.1:0") {
    CoordinatorOptions o;
    o.data_dir = dir_.path() + "/coord";
    o.bus = bus;
    o.cluster.heartbeat_interval_ms = 100;
    o.cluster.liveness = 3;
    o.cluster.retry_backoff_ms = 50;
    o.cluster.adopt_grace_ms = 5000;
    o.tick_ms = 25;
    coordinator_ = Coordinator::Start(o).value();
    ctx_ = wire::WireContext::Create(wire::Enrollment::kOpen).value();
    wire::ClientOptions co{coordinator_->endpoint(), coordinator_->curve_public_key(),
                           wire::CurveKeysOf(me_).value()};
    client_ = wire::WireClient::Connect(ctx_.get(), co).value();
  }
  StatusOr<wire::ClientReply> Call(decltype(wire::ClientRequest::body) body) {
    return client_->Call(wire::ClientRequest{++rid_, 0, std::move(body)}, 5000);
  }
  // Signed as `cairn submit` signs it (coordinator/submission.h).
  std::string Submit(const std::string& yaml) {
    auto spec = jobspec::ParseJobSpec(yaml, "job.yaml").value();
    SubmissionFacts f{NewJobId(spec.name), yaml, {}, spec.budget_micros, spec.max_price_per_hour_micros, "", 0, 0, 0};
    SetVerifyTerms(spec.verify, &f);
    auto entry = SignSubmission(me_, Clock::System()->NowUnixMillis(), f).value();
    auto r = Call(wire::SubmitBody{yaml, "job.yaml", entry});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? std::get<wire::SubmittedBody>(r->body).job_id : "";
  }
  wire::JobInfo Status(const std::string& id) {
    auto r = Call(wire::JobStatusBody{id});
    return r.ok() ? std::get<wire::JobInfo>(r->body) : wire::JobInfo{};
  }
  bool WaitFor(const std::string& id, const std::string& state, int ms = 10000) {
    return Eventually([&] { return Status(id).state == state; }, ms);
  }
  std::string Logs(const std::string& id) {
    std::string all;
    auto r = Call(wire::JobLogsBody{id, 0});
    if (r.ok()) for (const auto& l : std::get<wire::LogsChunk>(r->body).lines) all += l + "\n";
    return all;
  }
  // Entries of one type in the ledger.
  int Count(const std::string& type) {
    ledger::Log& log = coordinator_->ledger();
    int n = 0;
    for (uint64_t i = 0; i < log.store().Size().value(); ++i) {
      auto h = ledger::ValidateEntry(log.store().Entry(i).value());
      if (h.ok() && ledger::EntryTypeName(h->type) == type) ++n;
    }
    return n;
  }
  void ExpectLedgerVerifies() {
    ledger::Log& log = coordinator_->ledger();
    auto reader = ledger::NewStoreReader(&log.store(), "coordinator");
    auto report = ledger::VerifyLog(*reader, log.verifier());
    ASSERT_TRUE(report.ok()) << report.status();
  }

  ScopedTempDir dir_{"cairn-coord"};
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<wire::WireContext> ctx_;
  std::unique_ptr<wire::WireClient> client_;
  const Ed25519PrivateKey me_ = Ed25519PrivateKey::Generate().value();  // the submitter
  uint64_t rid_ = 0;
};

TEST_F(CoordinatorTest, PlacesABenchmarkJobOnTwoWorkersAndItCompletes) {
  TestWorker a(coordinator_.get(), "a", Sleeps(100)), b(coordinator_.get(), "b", Sleeps(100)),
      c(coordinator_.get(), "c", Sleeps(100));
  std::string id = Submit(kBench2);
  ASSERT_EQ(id.rfind("bench-", 0), 0u) << id;
  ASSERT_TRUE(WaitFor(id, "succeeded")) << Status(id).state << ": " << Status(id).message;
  EXPECT_EQ(a.stats().tasks_started + b.stats().tasks_started + c.stats().tasks_started, 2u);
  auto workers = std::get<wire::WorkersBody>(Call(wire::ListWorkersBody{})->body).workers;
  EXPECT_EQ(workers.size(), 3u);
  auto logs = std::get<wire::LogsChunk>(Call(wire::JobLogsBody{id, 0})->body);
  EXPECT_TRUE(logs.finished);
  EXPECT_NE(Logs(id).find("task finished: done"), std::string::npos) << Logs(id);
  EXPECT_GE(coordinator_->stats().heartbeats, 3u);
  EXPECT_EQ(Count("jobSubmitted"), 1);
  EXPECT_EQ(Count("jobPlaced"), 1);
  ExpectLedgerVerifies();
}

// Every receipt a task signs lands exactly once: the same bytes sent twice
// are acknowledged without a second entry, and a different receipt for the
// same (job, attempt, round) from the same worker is refused for good.
TEST_F(CoordinatorTest, ReceiptsAreAppendedExactlyOnce) {
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  std::unique_ptr<TestWorker> w;
  auto runner = [&](const wire::TaskAssign& t, const std::atomic<bool>&, const worker::TaskIo& io) -> StatusOr<std::string> {
    auto receipt = [&](uint64_t round, double loss) { return StepReceipt(key, t, round, loss); };
    const std::string r1 = receipt(1, 0.5);
    RETURN_IF_ERROR(io.receipt(r1, ""));
    RETURN_IF_ERROR(io.receipt(r1, ""));                 // a resend: the same bytes
    RETURN_IF_ERROR(io.receipt(receipt(2, 0.4), ""));
    RETURN_IF_ERROR(io.receipt(receipt(1, 0.1), ""));    // a second, different receipt for round 1
    return std::string("signed");
  };
  w = std::make_unique<TestWorker>(coordinator_.get(), "w", runner, key);
  std::string id = Submit(kBench1);
  ASSERT_TRUE(WaitFor(id, "succeeded")) << Status(id).message;
  ASSERT_TRUE(Eventually([&] { return w->outbox().pending() == 0; }));
  EXPECT_EQ(Count("stepReceipt"), 2);
  EXPECT_EQ(coordinator_->stats().entries_duplicate, 1u);
  EXPECT_EQ(coordinator_->stats().entries_refused, 1u);
  EXPECT_EQ(w->stats().outbox_refused, 1u);
  EXPECT_NE(Logs(id).find("a different receipt for round 1"), std::string::npos) << Logs(id);
  auto history = w->outbox().History().value();
  int refused = 0;
  for (const auto& h : history) refused += h.acked && h.code == static_cast<uint16_t>(StatusCode::kAlreadyExists);
  EXPECT_EQ(refused, 1);
  ExpectLedgerVerifies();
}

TEST_F(CoordinatorTest, TransientFailuresAreRetriedAndPermanentOnesFailAtOnce) {
  std::atomic<int> runs{0};
  auto w = std::make_unique<TestWorker>(coordinator_.get(), "w", [&](const wire::TaskAssign&, const std::atomic<bool>&,
                                                                     const worker::TaskIo&) -> StatusOr<std::string> {
    if (runs.fetch_add(1) == 0) return UnavailableError("the blob store is unreachable");
    return std::string("done on the second try");
  });
  std::string id = Submit(kBench1);
  ASSERT_TRUE(WaitFor(id, "succeeded")) << Status(id).message;
  EXPECT_EQ(Status(id).retries, 1u);
  EXPECT_EQ(Status(id).attempt, 2u);
  EXPECT_NE(Logs(id).find("failed (UNAVAILABLE): the blob store is unreachable"), std::string::npos) << Logs(id);
  w.reset();

  TestWorker bad(coordinator_.get(), "bad", [](const wire::TaskAssign&, const std::atomic<bool>&, const worker::TaskIo&)
                                                 -> StatusOr<std::string> {
    return InvalidArgumentError("no dataset named 'nope'");
  });
  std::string failing = Submit(kBench1);
  ASSERT_TRUE(WaitFor(failing, "failed")) << Status(failing).message;
  EXPECT_EQ(Status(failing).retries, 0u);
  EXPECT_NE(Status(failing).message.find("no dataset named 'nope'"), std::string::npos) << Status(failing).message;
}

TEST_F(CoordinatorTest, ATaskThatThrowsFailsItsJobWithoutTakingTheWorkerDown) {
  TestWorker w(coordinator_.get(), "w", [](const wire::TaskAssign&, const std::atomic<bool>&, const worker::TaskIo&)
                                            -> StatusOr<std::string> { throw std::runtime_error("c10 error: boom"); });
  std::string id = Submit(kBench1);
  ASSERT_TRUE(WaitFor(id, "failed")) << Status(id).message;
  EXPECT_NE(Status(id).message.find("the task threw: c10 error: boom"), std::string::npos) << Status(id).message;
  // The worker carries on: it is still alive and takes the next job.
  EXPECT_TRUE(Eventually([&] { return w.stats().tasks_finished == 1; }));
}

// The submitter signs jobSubmitted; the coordinator appends it unchanged,
// and refuses a submission signed by another key or over another spec, and
// one whose budget the submitter cannot pay, keeping nothing.
TEST_F(CoordinatorTest, ForgedAlteredOrUnpaidSubmissionsAreRefusedAndNothingIsKept) {
  const std::string spec = "name: paid\nkind: benchmark\nbenchmark: {seconds: 1}\nbudget: 2\n";
  SubmissionFacts f{NewJobId("paid"), spec, {}, 2'000'000, 0, "", 0, 0, 0};
  const Ed25519PrivateKey other = Ed25519PrivateKey::Generate().value();
  auto forged = Call(wire::SubmitBody{spec, "job.yaml", SignSubmission(other, 1, f).value()});
  EXPECT_EQ(forged.status().code(), StatusCode::kPermissionDenied) << forged.status();
  auto altered = Call(wire::SubmitBody{spec + "priority: 9\n", "job.yaml", SignSubmission(me_, 1, f).value()});
  EXPECT_NE(altered.status().message().find("spec hash"), std::string::npos) << altered.status();
  auto unsigned_ = Call(wire::SubmitBody{spec, "job.yaml", ""});
  EXPECT_NE(unsigned_.status().message().find("signed by its submitter"), std::string::npos) << unsigned_.status();
  auto poor = Call(wire::SubmitBody{spec, "job.yaml", SignSubmission(me_, 1, f).value()});
  EXPECT_NE(poor.status().message().find("0.000000 credits available, the budget needs 2.000000 credits"),
            std::string::npos) << poor.status();
  EXPECT_TRUE(std::get<wire::JobsBody>(Call(wire::ListJobsBody{})->body).jobs.empty());
  EXPECT_EQ(Count("jobSubmitted"), 0);
  // Credited, the same entry goes in unchanged and its budget is held.
  ASSERT_TRUE(coordinator_->Credit(me_.public_key().bytes(), 3'000'000, "test").ok());
  const std::string entry = SignSubmission(me_, 1, f).value();
  ASSERT_TRUE(Call(wire::SubmitBody{spec, "job.yaml", entry}).ok());
  EXPECT_TRUE(coordinator_->view().Contains(entry)) << "appended byte for byte";
  EXPECT_EQ(coordinator_->balances().Available(me_.public_key().bytes()), 1'000'000);
  EXPECT_EQ(coordinator_->balances().EscrowOf(me_.public_key().bytes()), 2'000'000u);
}

TEST_F(CoordinatorTest, BadSpecsAreRefusedWithFieldMessagesAndCancelStopsTasksAtOnce) {
  auto bad = Call(wire::SubmitBody{"name: x\nkind: benchmark\nresources: {workers: lots}\n", "bad.yaml", ""});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("bad.yaml:3: resources.workers"), std::string::npos) << bad.status();
  std::string waits = Submit("name: waits\nkind: benchmark\nresources: {workers: 5}\n");  // never fits
  EXPECT_EQ(Status(waits).state, "queued");
  ASSERT_TRUE(Call(wire::CancelBody{waits}).ok());
  EXPECT_EQ(Status(waits).state, "cancelled");
  EXPECT_EQ(Call(wire::CancelBody{waits}).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Call(wire::JobStatusBody{"nope"}).status().code(), StatusCode::kNotFound);

  std::atomic<bool> saw_cancel{false};
  TestWorker w(coordinator_.get(), "w", [&](const wire::TaskAssign&, const std::atomic<bool>& cancel,
                                            const worker::TaskIo&) -> StatusOr<std::string> {
    while (!cancel) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    saw_cancel = true;
    return CancelledError("revoked");
  });
  std::string id = Submit(kBench1);
  ASSERT_TRUE(WaitFor(id, "running"));
  ASSERT_TRUE(Eventually([&] { return w.stats().tasks_started == 1; }));
  ASSERT_TRUE(Call(wire::CancelBody{id}).ok());
  EXPECT_TRUE(Eventually([&] { return saw_cancel.load(); }, 3000));
  EXPECT_EQ(Status(id).state, "cancelled");
}

// A training leader registers the job's model; the author it names (the
// royalties' payee) must be the submitted spec's output.author (which
// `cairn submit` sets to the submitter). A worker that names itself is
// refused and nothing is registered; one that names the spec's is appended.
TEST_F(CoordinatorTest, AModelsRoyaltiesGoWhereTheSpecSaysNotWhereTheWorkerSays) {
  const std::string author(64, 'a'), itself(64, 'e');
  const std::string spec = std::string(kBench1) + "output: {author: " + author + "}\n";
  std::atomic<bool> greedy{true};
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  std::unique_ptr<TestWorker> w;
  w = std::make_unique<TestWorker>(coordinator_.get(), "w", [&](const wire::TaskAssign& t, const std::atomic<bool>&,
                                                                const worker::TaskIo& io) -> StatusOr<std::string> {
    auto e = ledger::MakeEntry(key, Clock::System()->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto m = b.initModelRegistered();
      m.setName("model-of-" + t.job_id);
      m.setModelHash(ledger::AsData(Sha256Bytes(t.job_id)));
      m.setJobId(t.job_id);
      m.setLicense("MIT");
      m.setAuthor(ledger::AsData(HexDecode(greedy ? itself : author).value()));
    });
    RETURN_IF_ERROR(io.receipt(e.value(), ""));
    return std::string("registered");
  }, key);
  std::string first = Submit(spec);
  ASSERT_TRUE(WaitFor(first, "succeeded"));
  EXPECT_NE(Logs(first).find("modelRegistered.author differs from job " + first + "'s output.author"), std::string::npos)
      << Logs(first);
  greedy = false;
  std::string second = Submit(spec);
  ASSERT_TRUE(WaitFor(second, "succeeded"));
  // The job succeeded only after its model was acknowledged (in-order delivery).
  EXPECT_EQ(Count("modelRegistered"), 1) << Logs(second);
  EXPECT_TRUE(coordinator_->view().Model("model-of-" + second).has_value());
  EXPECT_EQ(Logs(second).find("entry refused"), std::string::npos) << Logs(second);
}

// The coordinator is stopped and started again on the same port and data
// directory while a task runs: the worker keeps running it, the new
// coordinator re-adopts it (no new attempt), and the receipts the task
// signed while the coordinator was away are delivered once it is back.
TEST_F(CoordinatorTest, ARestartedCoordinatorReadoptsARunningTask) {
  std::atomic<bool> release{false};
  std::atomic<int> signed_receipts{0};
  const Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  std::unique_ptr<TestWorker> w;
  w = std::make_unique<TestWorker>(coordinator_.get(), "w", [&](const wire::TaskAssign& t, const std::atomic<bool>& cancel,
                                                                const worker::TaskIo& io) -> StatusOr<std::string> {
    for (uint64_t round = 1; !release && !cancel; ++round) {
      RETURN_IF_ERROR(io.receipt(StepReceipt(key, t, round, 1.0), ""));
      signed_receipts.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (cancel) return CancelledError("revoked");
    return std::string("done");
  }, key);
  std::string id = Submit(kBench1);
  ASSERT_TRUE(Eventually([&] { return signed_receipts.load() >= 3; }));
  const std::string endpoint = coordinator_->endpoint();
  client_.reset();
  ctx_.reset();
  coordinator_.reset();  // gone for a while; the task goes on signing
  const int before = signed_receipts.load();
  ASSERT_TRUE(Eventually([&] { return signed_receipts.load() >= before + 5; }));
  StartCoordinator(endpoint);
  ASSERT_TRUE(Eventually([&] { return Logs(id).find("the coordinator restarted") != std::string::npos; }));
  release = true;
  ASSERT_TRUE(WaitFor(id, "succeeded", 15000)) << Status(id).message << "\n" << Logs(id);
  EXPECT_EQ(Status(id).attempt, 1u) << "re-adopted, not retried";
  ASSERT_TRUE(Eventually([&] { return w->outbox().pending() == 0; }));
  EXPECT_EQ(Count("stepReceipt"), signed_receipts.load()) << "none lost, none doubled";
  ExpectLedgerVerifies();
}

}  // namespace
}  // namespace cairn::coordinator
