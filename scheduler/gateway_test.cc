// The gateway's routing, retry, accounting and metrics, in process: replicas
// are real httplib servers on loopback that say which of them answered, and
// time is a FakeClock (replicas advance it while they "work", so latencies
// and usage windows are exact).
#include "scheduler/gateway_test_support.h"

namespace cairn::scheduler {
namespace {

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

}  // namespace
}  // namespace cairn::scheduler
