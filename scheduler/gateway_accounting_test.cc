// The gateway's accounting in process, on a FakeClock: API keys and the
// refusals of each API, holds on credits and their release, metering
// (usage windows exact), and its metrics in the given registry.
#include "scheduler/gateway_test_support.h"

namespace cairn::scheduler {
namespace {

// At the replicas' prices: 1,000 per request + 2,000 per 1,000 tokens.
constexpr uint64_t kWorstCase = 1000 + 14;  // prompt (2) + max_tokens (5) = 7 tokens
constexpr uint64_t kCharged = 1000 + 8;     // the replica's usage: 4 tokens

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
                    "the model 'nope' is not being served", "invalid_request_error", "model_not_found", "model"});
  openai.push_back({"too few credits", Complete(kCompletion, "good-key"), 429,
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
    // OpenAI's clients retry a 429 unless told not to: more credits, not patience, fixes this one.
    EXPECT_EQ(c.result->get_header_value("x-should-retry"), c.status == 429 ? "false" : "");
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
  EXPECT_EQ(second->status, 429);
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
