#include "runtime/crypto/replay_cache.h"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cairn {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;

constexpr char kPath[] = "/api-keys";
constexpr char kBody[] = R"({"name":"laptop"})";

class ReplayCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<Ed25519PrivateKey>(*key);
  }
  int64_t Now() const { return clock_.NowUnixMillis(); }
  std::string Sign(int64_t millis, const std::string& body = kBody) {
    auto header = SignRequest(*key_, "POST", kPath, body, millis);
    EXPECT_TRUE(header.ok()) << header.status();
    return header.ok() ? *header : "";
  }
  StatusOr<VerifiedSigner> Verify(ReplayCache& cache, const std::string& header, const std::string& body = kBody) {
    return cache.Verify(header, "POST", kPath, body);
  }

  FakeClock clock_;
  std::unique_ptr<Ed25519PrivateKey> key_;
};

void ExpectReplay(const StatusOr<VerifiedSigner>& r) {
  ASSERT_FALSE(r.ok()) << "a replayed request was accepted";
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("already used (replay)"));
}

TEST_F(ReplayCacheTest, ASignedRequestWorksOnce) {
  ReplayCache cache(&clock_);
  const std::string header = Sign(Now());
  auto first = Verify(cache, header);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->public_key, key_->public_key().bytes());
  ExpectReplay(Verify(cache, header));
  clock_.Advance(milliseconds(1));
  ExpectReplay(Verify(cache, header));
  // A fresh signature of the same request is a new request.
  EXPECT_TRUE(Verify(cache, Sign(Now())).ok());
  EXPECT_EQ(cache.size(), 2u);
}

TEST_F(ReplayCacheTest, RefusedSignaturesAreNotRemembered) {
  ReplayCache cache(&clock_);
  const std::string header = Sign(Now());
  auto tampered = Verify(cache, header, R"({"name":"other"})");
  ASSERT_FALSE(tampered.ok());
  EXPECT_THAT(std::string(tampered.status().message()), HasSubstr("does not verify"));
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_TRUE(Verify(cache, header).ok()) << "the genuine request still works once";
}

TEST_F(ReplayCacheTest, ReplayIsRefusedUntilTheSignatureIsStale) {
  const int64_t window = kMaxRequestSkewMillis;
  ReplayCache cache(&clock_);
  const int64_t signed_at = Now();
  const std::string header = Sign(signed_at);
  ASSERT_TRUE(Verify(cache, header).ok());
  // At the window's last millisecond the signature still verifies: the cache
  // must still remember it.
  clock_.Advance(milliseconds(window));
  EXPECT_EQ(cache.size(), 1u);
  ExpectReplay(Verify(cache, header));
  // One millisecond later it is stale: refused by the clock check, and
  // forgotten.
  clock_.Advance(milliseconds(1));
  auto stale = Verify(cache, header);
  ASSERT_FALSE(stale.ok());
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr("off this server's clock"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(ReplayCacheTest, ASignatureFromAheadIsRememberedForItsWholeLife) {
  // Signed one window ahead of this clock (the client's clock runs fast): it
  // verifies for two windows, and must be refused as a replay for all of it.
  const int64_t window = kMaxRequestSkewMillis;
  ReplayCache cache(&clock_);
  const std::string header = Sign(Now() + window);
  ASSERT_TRUE(Verify(cache, header).ok());
  clock_.Advance(milliseconds(2 * window));
  ExpectReplay(Verify(cache, header));
  clock_.Advance(milliseconds(1));
  EXPECT_THAT(std::string(Verify(cache, header).status().message()), HasSubstr("off this server's clock"));
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(ReplayCacheTest, ExpiredEntriesAreForgotten) {
  ReplayCache cache(&clock_, /*max_skew_millis=*/1'000);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(cache.FirstUse("sig-" + std::to_string(i), Now()));
    clock_.Advance(milliseconds(300));
  }
  // Signed at t, t+300, ..., t+1200; now t+1500: the first (expired at
  // t+1000) is gone, t+300 expires at t+1300, also gone.
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_TRUE(cache.FirstUse("sig-0", Now())) << "forgotten once expired";
  EXPECT_FALSE(cache.FirstUse("sig-4", Now()));
}

TEST_F(ReplayCacheTest, WallTimeSteppingBackKeepsEntries) {
  ReplayCache cache(&clock_, 1'000);
  ASSERT_TRUE(cache.FirstUse("sig", Now()));
  clock_.SetUnixNanos(clock_.NowUnixNanos() - 5'000'000'000);  // NTP steps back 5 s
  EXPECT_FALSE(cache.FirstUse("sig", Now()));
}

TEST_F(ReplayCacheTest, ConcurrentReplaysAdmitExactlyOne) {
  ReplayCache cache(&clock_);
  const std::string header = Sign(Now());
  std::atomic<int> accepted{0}, replays{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r = Verify(cache, header);
      if (r.ok()) {
        accepted.fetch_add(1);
      } else if (std::string(r.status().message()).find("replay") != std::string::npos) {
        replays.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(replays.load(), 7);
}

}  // namespace
}  // namespace cairn
