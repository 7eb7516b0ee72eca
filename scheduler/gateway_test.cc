// The gateway's routing, retry, accounting and metrics, in process: replicas
// are real httplib servers on loopback that say which of them answered, and
// time is a FakeClock (replicas advance it while they "work", so latencies
// and usage windows are exact).
#include "scheduler/gateway.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace cairn::scheduler {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kJson[] = "application/json";
constexpr auto kDeadline = std::chrono::seconds(10);
constexpr int64_t kWorkNanos = 3'000'000;  // a replica's fake time per request

// Polls `done` until it holds or the deadline passes; true if it held.
bool WaitUntil(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + kDeadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return true;
}

// A replica of model "m": OpenAI completions (text = its name; usage 1 + 3
// tokens), streaming (two chunks, the usage chunk when asked, [DONE]) and
// KServe v2 infer/metadata. It can hold requests until released, cut
// streams after their first event, and go away (its port then refuses).
class FakeReplica {
 public:
  FakeReplica(std::string name, FakeClock* clock) : name_(std::move(name)), clock_(clock) {
    http_.Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      Enter();
      json body = json::parse(req.body, nullptr, false);
      if (!body.value("stream", false)) {
        res.set_content(json{{"id", "cmpl-1"},
                             {"object", "text_completion"},
                             {"model", "m"},
                             {"choices", {{{"text", name_}, {"index", 0}, {"finish_reason", "length"}}}},
                             {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 3}, {"total_tokens", 4}}}}
                            .dump(),
                        kJson);
        return;
      }
      const bool usage = body.contains("stream_options") && body["stream_options"].value("include_usage", false);
      res.set_chunked_content_provider("text/event-stream", [this, usage](size_t, httplib::DataSink& sink) {
        const std::string first = "data: {\"choices\":[{\"text\":\"" + name_ + "-1\"}]}\n\n";
        sink.write(first.data(), first.size());
        if (break_streams_) return false;  // cut: the connection closes mid-stream
        std::string rest = "data: {\"choices\":[{\"text\":\"" + name_ + "-2\",\"finish_reason\":\"length\"}]}\n\n";
        if (usage) {
          rest += "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":5,\"total_tokens\":6}}\n\n";
        }
        rest += "data: [DONE]\n\n";
        sink.write(rest.data(), rest.size());
        sink.done();
        return true;
      });
    });
    http_.Post("/v2/models/m/infer", [this](const httplib::Request&, httplib::Response& res) {
      Enter();
      res.set_content(json{{"model_name", "m"}, {"id", name_}, {"outputs", json::array()}}.dump(), kJson);
    });
    http_.Get("/v2/models/m", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(json{{"name", "m"}, {"served_by", name_}}.dump(), kJson);
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    EXPECT_TRUE(WaitUntil([this] { return http_.is_running(); }));
  }
  ~FakeReplica() {
    Release();
    Stop();
  }

  const std::string& name() const { return name_; }
  int port() const { return port_; }
  ReplicaInfo Info() const {
    ReplicaInfo r;
    r.model = "m";
    r.task = "task-" + name_;
    r.job_id = "job-1";
    r.worker_id = "worker-" + name_;
    r.host = "127.0.0.1";
    r.port = port_;
    r.worker_key = std::string(32, name_[0]);
    r.model_hash = std::string(32, 'h');
    r.per_request_micros = 1000;
    r.per_1k_tokens_micros = 2000;
    r.worker_share_bps = 6000;
    return r;
  }
  // Stops serving: connections to its port are refused from now on.
  void Stop() {
    if (!thread_.joinable()) return;
    http_.stop();
    thread_.join();
  }
  void Hold() {
    std::lock_guard<std::mutex> l(mu_);
    holding_ = true;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu_);
      holding_ = false;
    }
    released_.notify_all();
  }
  void BreakStreams() { break_streams_ = true; }
  int hits() const { return hits_.load(); }
  int waiting() const { return waiting_.load(); }

 private:
  // Counts the request, does its fake work, and blocks while held.
  void Enter() {
    hits_.fetch_add(1);
    clock_->Advance(std::chrono::nanoseconds(kWorkNanos));
    std::unique_lock<std::mutex> l(mu_);
    waiting_.fetch_add(1);
    released_.wait_for(l, kDeadline, [this] { return !holding_; });
    waiting_.fetch_sub(1);
  }

  const std::string name_;
  FakeClock* const clock_;
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable released_;
  bool holding_ = false;
  std::atomic<bool> break_streams_{false};
  std::atomic<int> hits_{0}, waiting_{0};
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    gateway_ = std::make_unique<Gateway>(GatewayOptions{&clock_, &metrics_});
    gateway_->Install(&http_);
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    ASSERT_TRUE(WaitUntil([this] { return http_.is_running(); }));
  }
  void TearDown() override {
    http_.stop();
    thread_.join();
    // The gateway's pooled keep-alive connections go first: a replica
    // stopping with one open waits out httplib's keep-alive timeout.
    gateway_.reset();
    replicas_.clear();
  }

  FakeReplica& AddReplica(const std::string& name) {
    replicas_.push_back(std::make_unique<FakeReplica>(name, &clock_));
    gateway_->AddReplica(replicas_.back()->Info());
    return *replicas_.back();
  }
  // A replica that was registered and then went away.
  void AddDeadReplica(const std::string& name) { AddReplica(name).Stop(); }

  // Accounting: "good-key" is alice's, who has `credits_` micro-credits.
  void EnableAccounting() {
    gateway_->SetAccounting(
        [](const std::string& key) -> StatusOr<std::string> {
          if (key == "good-key") return std::string("alice");
          return UnauthenticatedError("unknown API key");
        },
        [this](const std::string& account) -> int64_t { return account == "alice" ? credits_.load() : 0; });
  }

  std::unique_ptr<httplib::Client> Client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(30, 0);
    return c;
  }
  httplib::Result Complete(const std::string& body, const std::string& key = "") const {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    return Client()->Post("/v1/completions", headers, body, kJson);
  }
  httplib::Result Infer(const std::string& model = "m", const std::string& key = "") const {
    httplib::Headers headers;
    if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
    return Client()->Post("/v2/models/" + model + "/infer", headers, R"({"inputs":[]})", kJson);
  }
  // Who answered a non-streamed completion.
  static std::string AnsweredBy(const httplib::Result& r) {
    if (!r || r->status != 200) return "(failed)";
    return json::parse(r->body)["choices"][0]["text"].get<std::string>();
  }

  FakeClock clock_;
  MetricsRegistry metrics_;
  std::unique_ptr<Gateway> gateway_;
  std::vector<std::unique_ptr<FakeReplica>> replicas_;  // outlive nothing the gateway needs
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<int64_t> credits_{1'000'000};
};

constexpr char kCompletion[] = R"({"model":"m","prompt":"hi","max_tokens":5})";
constexpr char kStream[] = R"({"model":"m","prompt":"hi","max_tokens":5,"stream":true})";
constexpr char kStreamWithUsage[] =
    R"({"model":"m","prompt":"hi","max_tokens":5,"stream":true,"stream_options":{"include_usage":true}})";
// At the replicas' prices: 1,000 per request + 2,000 per 1,000 tokens.
constexpr uint64_t kWorstCase = 1000 + 14;  // prompt (2) + max_tokens (5) = 7 tokens
constexpr uint64_t kCharged = 1000 + 8;     // the replica's usage: 4 tokens

TEST_F(GatewayTest, RoutesToTheLeastBusyReplica) {
  FakeReplica& a = AddReplica("a");
  FakeReplica& b = AddReplica("b");
  a.Hold();
  b.Hold();
  httplib::Result first{nullptr, httplib::Error::Unknown};
  std::thread slow([&] { first = Complete(kCompletion); });
  ASSERT_TRUE(WaitUntil([&] { return a.waiting() + b.waiting() == 1; }));
  FakeReplica& busy = a.waiting() == 1 ? a : b;
  FakeReplica& idle = &busy == &a ? b : a;
  idle.Release();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(AnsweredBy(Complete(kCompletion)), idle.name()) << "request " << i;
  EXPECT_EQ(busy.hits(), 1);
  busy.Release();
  slow.join();
  EXPECT_EQ(AnsweredBy(first), busy.name());
  // Both idle again: ties go round in rotation, so both get work.
  const int before = busy.hits();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Complete(kCompletion)->status, 200);
  EXPECT_GT(busy.hits(), before);
  EXPECT_EQ(gateway_->stats().retries, 0u);
}

// Regression: the 401/402/404 checks and the stream's "is it served" check
// each moved the rotation, so with two idle replicas every metered request
// (and every stream) went to the same one.
TEST_F(GatewayTest, IdleReplicasShareMeteredRequestsAndStreams) {
  FakeReplica& a = AddReplica("a");
  FakeReplica& b = AddReplica("b");
  EnableAccounting();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Complete(kCompletion, "good-key")->status, 200);
  EXPECT_EQ(a.hits(), 2);
  EXPECT_EQ(b.hits(), 2);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Complete(kStream, "good-key")->status, 200);
  EXPECT_EQ(a.hits(), 4);
  EXPECT_EQ(b.hits(), 4);
}

TEST_F(GatewayTest, AnUnreachableReplicaIsDroppedAndTheRequestRetriedOnAnother) {
  AddDeadReplica("dead");
  FakeReplica& live = AddReplica("live");
  // Whichever the rotation tries first, every request is answered, and the
  // dead replica is found out within two.
  for (int i = 0; i < 2 && gateway_->stats().replicas_dropped == 0; ++i) {
    EXPECT_EQ(AnsweredBy(Complete(kCompletion)), "live");
  }
  const GatewayStats s = gateway_->stats();
  EXPECT_EQ(s.replicas_dropped, 1u);
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.errors, 0u);
  ASSERT_EQ(gateway_->Replicas().size(), 1u);
  EXPECT_EQ(gateway_->Replicas()[0].port, live.port());
  const std::string text = metrics_.Render();
  EXPECT_THAT(text, HasSubstr("cairn_inference_retries_total 1\n"));
  EXPECT_THAT(text, HasSubstr("cairn_inference_replicas 1\n"));
  // KServe is retried the same way.
  AddDeadReplica("dead2");
  for (int i = 0; i < 2 && gateway_->stats().replicas_dropped == 1; ++i) {
    auto r = Infer();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(json::parse(r->body)["id"], "live");
  }
  EXPECT_EQ(gateway_->stats().replicas_dropped, 2u);
}

TEST_F(GatewayTest, ARequestIsRetriedOnlyOnce) {
  AddDeadReplica("d1");
  AddDeadReplica("d2");
  AddDeadReplica("d3");
  auto r = Complete(kCompletion);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  const json e = json::parse(r->body)["error"];
  EXPECT_EQ(e["message"], "no replica of 'm' could be reached");
  EXPECT_EQ(e["type"], "server_error");
  const GatewayStats s = gateway_->stats();
  EXPECT_EQ(s.replicas_dropped, 2u) << "two tried, the third not";
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(gateway_->Replicas().size(), 1u);
}

TEST_F(GatewayTest, AStreamIsRetriedWhenNothingWasSent) {
  AddDeadReplica("dead");
  AddReplica("live");
  for (int i = 0; i < 2 && gateway_->stats().replicas_dropped == 0; ++i) {
    auto r = Complete(kStream);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
    EXPECT_THAT(r->body, HasSubstr("live-1"));
    EXPECT_THAT(r->body, HasSubstr("live-2"));
    EXPECT_THAT(r->body, HasSubstr("data: [DONE]\n\n"));
    // The gateway asked for usage (to meter it); the consumer did not.
    EXPECT_THAT(r->body, Not(HasSubstr("usage")));
  }
  EXPECT_EQ(gateway_->stats().replicas_dropped, 1u);
  EXPECT_EQ(gateway_->stats().retries, 1u);
  auto r = Complete(kStreamWithUsage);
  ASSERT_TRUE(r);
  EXPECT_THAT(r->body, HasSubstr("\"total_tokens\":6"));
}

TEST_F(GatewayTest, AStreamIsNotRetriedOnceSomethingWasSent) {
  FakeReplica& a = AddReplica("a");
  FakeReplica& b = AddReplica("b");
  a.BreakStreams();
  b.BreakStreams();
  auto r = Complete(kStream);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(a.hits() + b.hits(), 1) << "a retry would repeat what the consumer already has";
  EXPECT_THAT(r->body, HasSubstr("-1\"}]}\n\n"));
  EXPECT_THAT(r->body, Not(HasSubstr("-2")));
  EXPECT_THAT(r->body, Not(HasSubstr("[DONE]")));
  EXPECT_EQ(gateway_->stats().retries, 0u);
  EXPECT_EQ(gateway_->stats().replicas_dropped, 0u) << "it answered: not gone";
}

TEST_F(GatewayTest, AnOpenGatewayNeedsNoKey) {
  AddReplica("a");
  EXPECT_EQ(AnsweredBy(Complete(kCompletion)), "a");
  auto r = Infer();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(gateway_->meter().Take().empty()) << "nothing is metered without accounting";
}

TEST_F(GatewayTest, RefusalsHaveEachApisShape) {
  AddReplica("a");
  EnableAccounting();
  credits_ = kWorstCase - 1;
  struct Case {
    std::string what;
    httplib::Result result;
    int status;
    std::string message, type, code, param;
  };
  std::vector<Case> openai;
  openai.push_back({"no key", Complete(kCompletion), 401, "missing API key: send Authorization: Bearer KEY",
                    "authentication_error", "", ""});
  openai.push_back({"unknown key", Complete(kCompletion, "bad-key"), 401, "invalid API key: unknown API key",
                    "authentication_error", "", ""});
  openai.push_back({"unknown model", Complete(R"({"model":"nope","prompt":"hi"})", "good-key"), 404,
                    "the model 'nope' is not being served", "not_found_error", "", "model"});
  openai.push_back({"too few credits", Complete(kCompletion, "good-key"), 402,
                    "insufficient credits: this account has 0.001013 credits left, this request may cost 0.001014",
                    "insufficient_quota", "insufficient_quota", ""});
  for (const auto& c : openai) {
    SCOPED_TRACE(c.what);
    ASSERT_TRUE(c.result);
    EXPECT_EQ(c.result->status, c.status);
    const json body = json::parse(c.result->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body["error"].is_object()) << c.result->body;
    const json& e = body["error"];
    EXPECT_THAT(e["message"].get<std::string>(), HasSubstr(c.message));
    EXPECT_EQ(e["type"], c.type);
    EXPECT_EQ(e["code"], c.code.empty() ? json(nullptr) : json(c.code));
    EXPECT_EQ(e["param"], c.param.empty() ? json(nullptr) : json(c.param));
  }
  credits_ = 999;  // a KServe request costs the per-request price, 1,000
  std::vector<Case> kserve;
  kserve.push_back({"no key", Infer(), 401, "missing API key", "", "", ""});
  kserve.push_back({"unknown key", Infer("m", "bad-key"), 401, "invalid API key: unknown API key", "", "", ""});
  kserve.push_back({"unknown model", Infer("nope", "good-key"), 404, "the model 'nope' is not being served", "", "", ""});
  kserve.push_back({"too few credits", Infer("m", "good-key"), 402,
                    "insufficient credits: this account has 0.000999 credits left, this request may cost 0.001000", "",
                    "", ""});
  for (const auto& c : kserve) {
    SCOPED_TRACE("kserve " + c.what);
    ASSERT_TRUE(c.result);
    EXPECT_EQ(c.result->status, c.status);
    const json body = json::parse(c.result->body, nullptr, false);
    ASSERT_TRUE(body.is_object() && body["error"].is_string()) << c.result->body;
    EXPECT_THAT(body["error"].get<std::string>(), HasSubstr(c.message));
  }
  EXPECT_EQ(replicas_[0]->hits(), 0) << "nothing refused reached a replica";
  EXPECT_EQ(gateway_->meter().Held("alice"), 0u);
  EXPECT_EQ(gateway_->meter().Pending("alice"), 0u);
  EXPECT_EQ(gateway_->stats().errors, 8u);
  EXPECT_THAT(metrics_.Render(), HasSubstr("cairn_inference_requests_total{api=\"openai\",code=\"4xx\"} 4\n"));
  EXPECT_THAT(metrics_.Render(), HasSubstr("cairn_inference_requests_total{api=\"kserve\",code=\"4xx\"} 4\n"));
}

TEST_F(GatewayTest, AHoldCoversTheWorstCaseAndIsReleasedForWhatWasUsed) {
  FakeReplica& a = AddReplica("a");
  EnableAccounting();
  credits_ = 2 * kWorstCase - 1;  // room for one request in flight, not two
  a.Hold();
  httplib::Result first{nullptr, httplib::Error::Unknown};
  std::thread slow([&] { first = Complete(kCompletion, "good-key"); });
  ASSERT_TRUE(WaitUntil([&] { return a.waiting() == 1; }));
  EXPECT_EQ(gateway_->meter().Held("alice"), kWorstCase);
  // A second request while the first is held: what is left does not cover it.
  auto second = Complete(kCompletion, "good-key");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 402);
  a.Release();
  slow.join();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(gateway_->meter().Held("alice"), 0u);
  EXPECT_EQ(gateway_->meter().Pending("alice"), kCharged) << "charged for the 4 tokens used, not the 7 held";
  auto usage = gateway_->meter().Take();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].consumer, "alice");
  EXPECT_EQ(usage[0].model_hash, std::string(32, 'h'));
  EXPECT_EQ(usage[0].worker_key, std::string(32, 'a'));
  EXPECT_EQ(usage[0].requests, 1u);
  EXPECT_EQ(usage[0].tokens, 4u);
  EXPECT_EQ(usage[0].charge_micros, kCharged);
  EXPECT_EQ(usage[0].worker_micros, kCharged * 6000 / 10000);
  EXPECT_EQ(usage[0].window_start_ms, clock_.NowUnixMillis()) << "the meter reads the gateway's clock";
  EXPECT_THAT(metrics_.Render(), HasSubstr("cairn_inference_tokens_total 4\n"));
}

TEST_F(GatewayTest, HoldsAreReleasedWhenNoReplicaAnswers) {
  AddDeadReplica("d1");
  AddDeadReplica("d2");
  EnableAccounting();
  auto r = Complete(kCompletion, "good-key");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  auto k = Infer("m", "good-key");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->status, 404) << "both dropped by now";
  EXPECT_EQ(gateway_->meter().Held("alice"), 0u);
  EXPECT_EQ(gateway_->meter().Pending("alice"), 0u) << "nothing answered, nothing owed";
}

TEST_F(GatewayTest, StreamsReleaseTheirHoldAndMeterTheUsageChunk) {
  AddReplica("a");
  EnableAccounting();
  auto r = Complete(kStream, "good-key");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, Not(HasSubstr("usage")));
  EXPECT_EQ(gateway_->meter().Held("alice"), 0u);
  EXPECT_EQ(gateway_->meter().Pending("alice"), 1000u + 12) << "6 tokens from the usage chunk";
  // A stream cut short is not charged, and its hold goes too.
  replicas_[0]->BreakStreams();
  gateway_->meter().Settle("alice", 1012);
  r = Complete(kStream, "good-key");
  ASSERT_TRUE(r);
  EXPECT_EQ(gateway_->meter().Held("alice"), 0u);
  EXPECT_EQ(gateway_->meter().Pending("alice"), 0u);
}

TEST_F(GatewayTest, MetricsAreRegisteredInTheGivenRegistryOnFakeTime) {
  AddReplica("a");
  const std::string empty = metrics_.Render();
  // Every status class is there from the start, at zero.
  EXPECT_THAT(empty, HasSubstr("cairn_inference_requests_total{api=\"openai\",code=\"2xx\"} 0\n"));
  EXPECT_THAT(empty, HasSubstr("cairn_inference_requests_total{api=\"kserve\",code=\"5xx\"} 0\n"));
  EXPECT_THAT(empty, HasSubstr("cairn_inference_replicas 1\n"));
  EXPECT_EQ(Complete(kCompletion)->status, 200);
  EXPECT_EQ(Infer()->status, 200);
  const std::string text = metrics_.Render();
  EXPECT_EQ(text, gateway_->Metrics()) << "Metrics() renders the registry it was given";
  EXPECT_THAT(text, HasSubstr("cairn_inference_requests_total{api=\"openai\",code=\"2xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cairn_inference_requests_total{api=\"kserve\",code=\"2xx\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("cairn_inference_errors_total 0\n"));
  // Each took the replica's 3 ms of fake time: in the 5 ms bucket, not 2.5.
  for (const char* api : {"openai", "kserve"}) {
    const std::string h = std::string("cairn_inference_latency_seconds_") + api;
    EXPECT_THAT(text, HasSubstr("# TYPE " + h + " histogram\n"));
    EXPECT_THAT(text, HasSubstr(h + "_bucket{le=\"0.0025\"} 0\n")) << text;
    EXPECT_THAT(text, HasSubstr(h + "_bucket{le=\"0.005\"} 1\n")) << text;
    EXPECT_THAT(text, HasSubstr(h + "_sum 0.003\n")) << text;
    EXPECT_THAT(text, HasSubstr(h + "_count 1\n"));
  }
  gateway_->RemoveJob("job-1");
  EXPECT_THAT(metrics_.Render(), HasSubstr("cairn_inference_replicas 0\n"));
}

TEST(GatewayDefaults, AGatewayBuiltBareKeepsItsOwnRegistry) {
  Gateway a, b;  // two in one process must not share (or clash over) metrics
  ReplicaInfo r;
  r.model = "m";
  r.job_id = "j";
  r.worker_id = "w";
  a.AddReplica(r);
  EXPECT_THAT(a.Metrics(), HasSubstr("cairn_inference_replicas 1\n"));
  EXPECT_THAT(b.Metrics(), HasSubstr("cairn_inference_replicas 0\n"));
  EXPECT_THAT(a.Metrics(), HasSubstr("cairn_inference_latency_seconds_kserve_count 0\n"));
}

}  // namespace
}  // namespace cairn::scheduler
