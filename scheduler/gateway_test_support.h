// The gateway's test fixture: fake replicas (real httplib servers on
// loopback) and a gateway on a FakeClock. Shared by gateway_test.cc
// (routing and retry) and gateway_accounting_test.cc (keys, credits,
// holds, metering, metrics).
#ifndef CAIRN_SCHEDULER_GATEWAY_TEST_SUPPORT_H_
#define CAIRN_SCHEDULER_GATEWAY_TEST_SUPPORT_H_

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
}  // namespace
}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_GATEWAY_TEST_SUPPORT_H_
