#include "scheduler/meter.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cairn::scheduler {
namespace {

using std::chrono::milliseconds;

class MeterTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  Meter meter_{MeterOptions{&clock_}};
};

TEST_F(MeterTest, RecordAccumulatesPerModelConsumerAndWorker) {
  meter_.Record("m", "alice", "w1", 10, 100, 50);
  meter_.Record("m", "alice", "w1", 5, 60, 30);
  meter_.Record("m", "alice", "w2", 1, 7, 3);
  meter_.Record("m", "bob", "w1", 2, 9, 4);
  auto usage = meter_.Take();
  ASSERT_EQ(usage.size(), 3u);
  // Ordered by (model, consumer, worker).
  EXPECT_EQ(usage[0].consumer, "alice");
  EXPECT_EQ(usage[0].worker_key, "w1");
  EXPECT_EQ(usage[0].model_hash, "m");
  EXPECT_EQ(usage[0].requests, 2u);
  EXPECT_EQ(usage[0].tokens, 15u);
  EXPECT_EQ(usage[0].charge_micros, 160u);
  EXPECT_EQ(usage[0].worker_micros, 80u);
  EXPECT_EQ(usage[1].worker_key, "w2");
  EXPECT_EQ(usage[1].requests, 1u);
  EXPECT_EQ(usage[2].consumer, "bob");
  EXPECT_EQ(meter_.requests(), 4u);
  EXPECT_EQ(meter_.tokens(), 18u);
}

TEST_F(MeterTest, WindowsComeFromTheInjectedClock) {
  const int64_t t0 = clock_.NowUnixMillis();
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  clock_.Advance(milliseconds(250));
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  clock_.Advance(milliseconds(500));
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  auto usage = meter_.Take();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].window_start_ms, t0);
  EXPECT_EQ(usage[0].window_end_ms, t0 + 750);
  // The next window starts at the next request, not at the last flush.
  clock_.Advance(milliseconds(1000));
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  usage = meter_.Take();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].window_start_ms, t0 + 1750);
  EXPECT_EQ(usage[0].window_end_ms, t0 + 1750);
}

TEST_F(MeterTest, AWindowSpansWallTimeSteppingBack) {
  const int64_t t0 = clock_.NowUnixMillis();
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  clock_.SetUnixNanos(clock_.NowUnixNanos() - 2'000'000'000);  // NTP steps back 2 s
  meter_.Record("m", "alice", "w1", 1, 1, 0);
  auto usage = meter_.Take();
  ASSERT_EQ(usage.size(), 1u);
  EXPECT_EQ(usage[0].window_start_ms, t0 - 2000);
  EXPECT_EQ(usage[0].window_end_ms, t0);
}

TEST_F(MeterTest, TakeClearsButChargesStayPendingUntilSettled) {
  meter_.Record("m", "alice", "w1", 10, 100, 50);
  meter_.Record("m", "alice", "w2", 10, 40, 20);
  EXPECT_EQ(meter_.Pending("alice"), 140u);
  EXPECT_EQ(meter_.Take().size(), 2u);
  EXPECT_TRUE(meter_.Take().empty());
  EXPECT_EQ(meter_.Pending("alice"), 140u) << "taken, not yet in the ledger";
  meter_.Settle("alice", 100);
  EXPECT_EQ(meter_.Pending("alice"), 40u);
  meter_.Settle("alice", 1000);  // more than pending: clamps at zero
  EXPECT_EQ(meter_.Pending("alice"), 0u);
  meter_.Settle("nobody", 5);
  EXPECT_EQ(meter_.Pending("nobody"), 0u);
}

TEST_F(MeterTest, ARestoredUsageGoesOutWithTheNextFlushMergedWithNewRequests) {
  const int64_t t0 = clock_.NowUnixMillis();
  meter_.Record("m", "alice", "w1", 10, 100, 50);
  auto taken = meter_.Take();
  ASSERT_EQ(taken.size(), 1u);
  clock_.Advance(milliseconds(300));
  meter_.Record("m", "alice", "w1", 2, 20, 10);
  meter_.Restore(taken[0]);  // its ledger entry could not be appended
  meter_.Restore(Usage{"m", "bob", "w1", 1, 1, 5, 2, t0, t0});
  auto usage = meter_.Take();
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0].consumer, "alice");
  EXPECT_EQ(usage[0].requests, 2u);
  EXPECT_EQ(usage[0].tokens, 12u);
  EXPECT_EQ(usage[0].charge_micros, 120u);
  EXPECT_EQ(usage[0].worker_micros, 60u);
  EXPECT_EQ(usage[0].window_start_ms, t0);
  EXPECT_EQ(usage[0].window_end_ms, t0 + 300);
  EXPECT_EQ(usage[1].consumer, "bob");
  EXPECT_EQ(usage[1].charge_micros, 5u);
  EXPECT_EQ(meter_.Pending("alice"), 120u) << "restoring does not charge twice";
  EXPECT_EQ(meter_.requests(), 2u) << "lifetime totals count each request once";
}

TEST_F(MeterTest, ReserveCountsPendingAndHeld) {
  EXPECT_TRUE(meter_.Reserve("alice", 60, 100));
  EXPECT_EQ(meter_.Held("alice"), 60u);
  EXPECT_FALSE(meter_.Reserve("alice", 41, 100)) << "60 held, 41 more exceeds 100";
  EXPECT_TRUE(meter_.Reserve("alice", 40, 100)) << "exactly what is left";
  EXPECT_FALSE(meter_.Reserve("alice", 1, 100));
  meter_.Release("alice", 60);
  EXPECT_EQ(meter_.Held("alice"), 40u);
  meter_.Record("m", "alice", "w1", 0, 30, 0);  // what the released request cost
  EXPECT_FALSE(meter_.Reserve("alice", 31, 100)) << "40 held + 30 pending";
  EXPECT_TRUE(meter_.Reserve("alice", 30, 100));
  meter_.Release("alice", 1000);  // more than held: clamps at zero
  EXPECT_EQ(meter_.Held("alice"), 0u);
  EXPECT_FALSE(meter_.Reserve("bob", 1, 0));
  EXPECT_FALSE(meter_.Reserve("bob", 1, -5)) << "an overdrawn account";
  EXPECT_TRUE(meter_.Reserve("bob", 0, 0));
}

TEST_F(MeterTest, ConcurrentReservesCannotOverspend) {
  // 8 threads race to hold 7 credits at a time from 1,000; however they
  // interleave, at most 142 holds (994 credits) succeed, and exactly that
  // many since nothing is released.
  constexpr int64_t kAvailable = 1000;
  constexpr uint64_t kEach = 7;
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (meter_.Reserve("alice", kEach, kAvailable)) granted.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 142);
  EXPECT_EQ(meter_.Held("alice"), 142 * kEach);
}

TEST_F(MeterTest, ConcurrentReserveReleaseAndRecordKeepTheBalance) {
  // Each request holds its worst case, then records its cost and releases:
  // at no point may pending + held exceed what is available.
  constexpr int64_t kAvailable = 10'000;
  std::atomic<uint64_t> spent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (!meter_.Reserve("alice", 20, kAvailable)) continue;
        meter_.Record("m", "alice", "w", 1, 10, 5);
        spent.fetch_add(10);
        meter_.Release("alice", 20);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(meter_.Held("alice"), 0u);
  EXPECT_EQ(meter_.Pending("alice"), spent.load());
  EXPECT_LE(meter_.Pending("alice"), static_cast<uint64_t>(kAvailable));
  // 2,000 tries at 10 each cannot all fit, so some were refused; a refusal
  // means pending + holds (at most 3 others' 20) + 20 passed the limit.
  EXPECT_GT(meter_.Pending("alice"), static_cast<uint64_t>(kAvailable) - 4 * 20) << "refused with credits left";
}

TEST(ChargeFor, PerRequestPlusTokensRoundedUp) {
  EXPECT_EQ(ChargeFor(0, 100, 1000), 100u);
  EXPECT_EQ(ChargeFor(1, 0, 1000), 1u);
  EXPECT_EQ(ChargeFor(1, 0, 1), 1u) << "a thousandth of a micro-credit rounds up";
  EXPECT_EQ(ChargeFor(1000, 0, 1), 1u);
  EXPECT_EQ(ChargeFor(1001, 0, 1), 2u);
  EXPECT_EQ(ChargeFor(1500, 10, 2000), 3010u);
}

}  // namespace
}  // namespace cairn::scheduler
