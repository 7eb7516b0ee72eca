// Real ZeroMQ sockets with CURVE on loopback: admission (allow-list and open
// enrollment), identity binding through a signed hello, error replies for
// malformed frames, and survival of frames past ZMQ_MAXMSGSIZE.
#include "runtime/wire/server.h"

#include <gtest/gtest.h>

#include "runtime/wire/hello.h"
#include "runtime/wire/loopback_bus.h"

namespace cairn::wire {
namespace {

constexpr int kTimeoutMs = 5000;

Ed25519PrivateKey NewKey() { return Ed25519PrivateKey::Generate().value(); }

StatusOr<ClientReply> Ping(WireClient& c, uint64_t id, const std::string& payload) {
  return c.Call(ClientRequest{id, 0, PingBody{payload}}, kTimeoutMs);
}

std::string Whoami(WireClient& c, uint64_t id) {
  auto r = c.Call(ClientRequest{id, 0, WhoamiBody{}}, kTimeoutMs);
  if (!r.ok()) return "error: " + r.status().ToString();
  return std::get<WhoamiReplyBody>(r->body).identity;
}

ErrorReply ExpectError(WireClient& c) {
  auto in = c.Receive(kTimeoutMs);
  EXPECT_TRUE(in.ok()) << in.status();
  if (!in.ok()) return {};
  EXPECT_EQ(in->type, MessageType::kError);
  auto e = Decode<ErrorReply>(in->payload);
  EXPECT_TRUE(e.ok());
  return e.ok() ? *e : ErrorReply{};
}

TEST(WireServer, OpenEnrollmentAcceptsAnyKeyAsUnboundCurveIdentity) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto client = bus->Connect(NewKey()).value();
  auto reply = Ping(*client, 1, "hi");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(std::get<PongBody>(reply->body).payload, "hi");
  EXPECT_EQ(Whoami(*client, 2).rfind("curve:", 0), 0u);
}

TEST(WireServer, SignedHelloBindsTheIdentityToTheConnection) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto key = NewKey();
  auto client = bus->Connect(key).value();
  WorkerHello hello;
  hello.name = "w1";
  hello.max_tasks = 1;
  hello.sent_unix_millis = Clock::System()->NowUnixMillis();
  ASSERT_TRUE(SignWorkerHello(key, &hello).ok());
  ASSERT_TRUE(client->Send(hello).ok());
  auto in = client->Receive(kTimeoutMs);
  ASSERT_TRUE(in.ok()) << in.status();
  ASSERT_EQ(in->type, MessageType::kWelcome);
  EXPECT_EQ(Decode<Welcome>(in->payload)->worker_id, key.public_key().KeyId());
  EXPECT_EQ(Whoami(*client, 3), key.public_key().KeyId());

  // Someone else's hello, replayed over this connection, is refused.
  auto other = NewKey();
  auto impostor = bus->Connect(NewKey()).value();
  WorkerHello stolen = hello;
  ASSERT_TRUE(SignWorkerHello(other, &stolen).ok());
  ASSERT_TRUE(impostor->Send(hello).ok());
  ErrorReply e = ExpectError(*impostor);
  EXPECT_EQ(e.code, static_cast<uint16_t>(StatusCode::kUnauthenticated));
  EXPECT_NE(e.message.find("does not own the CURVE key"), std::string::npos) << e.message;
}

TEST(WireServer, AllowListAdmitsOnlyListedKeys) {
  auto bus = LoopbackBus::Start(Enrollment::kAllowList).value();
  auto allowed = NewKey();
  ASSERT_TRUE(bus->context().directory().Allow(allowed.public_key()).ok());
  auto good = bus->Connect(allowed).value();
  EXPECT_EQ(Whoami(*good, 1), allowed.public_key().KeyId());

  auto stranger = bus->Connect(NewKey()).value();
  auto r = stranger->Call(ClientRequest{1, 0, PingBody{"x"}}, 5000);
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);  // reported at once, not after the timeout
  EXPECT_NE(r.status().message().find("allow-list"), std::string::npos) << r.status();
  EXPECT_GE(bus->context().zap().refused(), 1u);
}

TEST(WireServer, ClientPinningTheWrongServerKeyNeverConnects) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  ClientOptions options;
  options.connect = bus->endpoint();
  options.server_public_key = CurveKeysOf(NewKey())->public_key;  // not the server's
  options.keys = CurveKeysOf(NewKey()).value();
  auto client = WireClient::Connect(&bus->context(), options).value();
  auto r = client->Call(ClientRequest{1, 0, WhoamiBody{}}, 5000);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status();
  EXPECT_NE(r.status().message().find("pinned server key"), std::string::npos) << r.status();
}

TEST(WireServer, MalformedFramesGetErrorRepliesNamingTheProblem) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto c = bus->Connect(NewKey()).value();
  struct Case {
    std::vector<std::string> frames;
    const char* want;
  };
  std::string hb = Encode(Heartbeat{1, 2, 3, {}, {}});
  const Case cases[] = {
      {{"garbage"}, "expected 2 frames"},
      {{TypeFrame(MessageType::kHeartbeat), hb, "extra"}, "expected 2 frames"},
      {{"CN\x01", hb}, "type frame must be 4 bytes"},
      {{std::string("CN\x01\x2a", 4), hb}, "unknown message type 42"},
      {{TypeFrame(MessageType::kWelcome), Encode(Welcome{"x", 1, 1})}, "does not accept Welcome"},
      {{TypeFrame(MessageType::kHeartbeat), hb.substr(0, 8)}, "Heartbeat"},
      {{TypeFrame(MessageType::kHeartbeat), std::string(64 * 1024, 'A')}, "exceeds the limit"},
      {{TypeFrame(MessageType::kHeartbeat), ""}, "empty Heartbeat payload"},
  };
  for (const auto& tc : cases) {
    ASSERT_TRUE(c->SendFrames(tc.frames).ok());
    ErrorReply e = ExpectError(*c);
    EXPECT_NE(e.message.find(tc.want), std::string::npos) << "want '" << tc.want << "', got '" << e.message << "'";
  }
  EXPECT_EQ(bus->server().stats().malformed, std::size(cases));
  auto ok = Ping(*c, 9, "still here");
  ASSERT_TRUE(ok.ok()) << ok.status();
}

TEST(WireServer, FramePastMaxMsgSizeDropsOnlyThatConnection) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen, /*max_message_bytes=*/64 * 1024).value();
  auto bystander = bus->Connect(NewKey()).value();
  auto c = bus->Connect(NewKey()).value();
  ASSERT_TRUE(Ping(*c, 1, "before").ok());
  ASSERT_TRUE(c->SendFrames({TypeFrame(MessageType::kClientRequest), std::string(256 * 1024, 'x')}).ok());
  // The bystander is unaffected, and the offender's socket reconnects.
  ASSERT_TRUE(Ping(*bystander, 2, "unaffected").ok());
  StatusOr<ClientReply> after = DeadlineExceededError("not tried");
  for (int i = 0; i < 50 && !after.ok(); ++i) after = Ping(*c, 10 + i, "after");
  EXPECT_TRUE(after.ok()) << after.status();
}

TEST(WireServer, VerbsWithoutAHandlerAreUnimplemented) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto c = bus->Connect(NewKey()).value();
  auto r = c->Call(ClientRequest{8, 0, ListJobsBody{}}, kTimeoutMs);
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
}

TEST(WireServer, ExpiredDeadlineIsAnsweredWithDeadlineExceeded) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto c = bus->Connect(NewKey()).value();
  auto r = c->Call(ClientRequest{5, 1, PingBody{"late"}}, kTimeoutMs);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(r.status().message().find("after its deadline"), std::string::npos);
}

}  // namespace
}  // namespace cairn::wire
