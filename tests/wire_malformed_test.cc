// 10,000 random, truncated and oversized frames against a real CURVE ROUTER
// endpoint on loopback: every one must be answered with an ErrorReply and
// counted as malformed, and the endpoint must go on serving valid requests.
#include <random>

#include <gtest/gtest.h>

#include "runtime/wire/loopback_bus.h"

namespace cairn::wire {
namespace {

constexpr int kFrames = 10000;
constexpr int kBatch = 100;  // requests in flight at once, well under the HWM

std::string Random(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// One malformed message; `kind` cycles through the families.
std::vector<std::string> MakeMalformed(std::mt19937_64& rng, int kind) {
  static const std::string kValid[] = {
      Encode(Heartbeat{1, 2, 3, {}, {}}),
      Encode(ClientRequest{7, 0, PingBody{std::string(100, 'p')}}),
      Encode(WorkerHello{}),
  };
  static const MessageType kTypes[] = {MessageType::kHeartbeat, MessageType::kClientRequest,
                                       MessageType::kWorkerHello};
  int which = static_cast<int>(rng() % 3);
  switch (kind % 6) {
    case 0:  // one frame of random bytes
      return {Random(rng, rng() % 512)};
    case 1: {  // random number of random frames
      std::vector<std::string> f(3 + rng() % 4);
      for (auto& x : f) x = Random(rng, rng() % 64);
      return f;
    }
    case 2: {  // valid type, truncated payload
      const std::string& v = kValid[which];
      return {TypeFrame(kTypes[which]), v.substr(0, rng() % v.size())};
    }
    case 3:  // valid type, random payload
      return {TypeFrame(kTypes[which]), Random(rng, 8 * (1 + rng() % 32))};
    case 4:  // valid type, oversized payload (past the type's limit, under ZMQ_MAXMSGSIZE)
      return {TypeFrame(kTypes[which]), Random(rng, MaxPayloadBytes(kTypes[which]) + 1 + rng() % 4096)};
    default: {  // corrupted type frame (magic, version or an unknown type) with a valid payload
      // (Flipping the type code to another known type is not malformed: Cap'n
      // Proto structs read compatibly, so e.g. a Heartbeat is a valid ping.)
      std::string t = TypeFrame(kTypes[which]);
      size_t pos = rng() % t.size();
      if (pos == 3) {
        t[3] = static_cast<char>(rng() % 2 == 0 ? 0 : kMaxMessageType + 1 + rng() % (255 - kMaxMessageType));
      } else {
        t[pos] ^= static_cast<char>(1 + rng() % 255);
      }
      return {t, kValid[which]};
    }
  }
}

TEST(WireMalformed, TenThousandBadFramesEachGetAnErrorAndServiceContinues) {
  auto bus = LoopbackBus::Start(Enrollment::kOpen).value();
  auto key = Ed25519PrivateKey::Generate().value();
  auto client = bus->Connect(key).value();
  std::mt19937_64 rng(20261124);
  int errors = 0;
  for (int sent = 0; sent < kFrames; sent += kBatch) {
    for (int i = 0; i < kBatch; ++i) {
      ASSERT_TRUE(client->SendFrames(MakeMalformed(rng, sent + i)).ok());
    }
    for (int i = 0; i < kBatch; ++i) {
      auto in = client->Receive(10000);
      ASSERT_TRUE(in.ok()) << "frame " << sent + i << ": " << in.status();
      ASSERT_EQ(in->type, MessageType::kError) << "frame " << sent + i;
      auto e = Decode<ErrorReply>(in->payload);
      ASSERT_TRUE(e.ok());
      EXPECT_FALSE(e->message.empty());
      ++errors;
    }
  }
  EXPECT_EQ(errors, kFrames);
  EXPECT_EQ(bus->server().stats().malformed, static_cast<uint64_t>(kFrames));

  // Still serving: a fresh connection and the same one both work.
  auto reply = client->Call(ClientRequest{1, 0, PingBody{"alive"}}, 5000);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(std::get<PongBody>(reply->body).payload, "alive");
  auto other = bus->Connect(Ed25519PrivateKey::Generate().value()).value();
  ASSERT_TRUE(other->Call(ClientRequest{2, 0, WhoamiBody{}}, 5000).ok());
}

}  // namespace
}  // namespace cairn::wire
