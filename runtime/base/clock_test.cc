#include "runtime/base/clock.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(FakeClock, AdvancesOnlyWhenTold) {
  FakeClock c(1000);
  EXPECT_EQ(c.NowUnixNanos(), 1000);
  EXPECT_EQ(c.MonotonicNanos(), 0);
  c.Advance(std::chrono::milliseconds(3));
  EXPECT_EQ(c.NowUnixNanos(), 1000 + 3'000'000);
  EXPECT_EQ(c.MonotonicNanos(), 3'000'000);
  c.SleepFor(std::chrono::seconds(1));
  EXPECT_EQ(c.MonotonicNanos(), 1'003'000'000);
  c.Advance(std::chrono::seconds(-5));  // ignored: time never runs backwards
  EXPECT_EQ(c.MonotonicNanos(), 1'003'000'000);
}

TEST(FakeClock, WallTimeCanJumpButMonotonicCannot) {
  FakeClock c;
  c.Advance(std::chrono::seconds(2));
  c.SetUnixNanos(5);
  EXPECT_EQ(c.NowUnixNanos(), 5);
  EXPECT_EQ(c.MonotonicNanos(), 2'000'000'000);
  EXPECT_EQ(c.NowUnixMillis(), 0);
}

TEST(SystemClock, IsPlausibleAndMonotonic) {
  Clock* c = Clock::System();
  EXPECT_GT(c->NowUnixNanos(), int64_t{1'700'000'000} * 1'000'000'000);  // after Nov 2023
  int64_t a = c->MonotonicNanos();
  c->SleepFor(std::chrono::milliseconds(1));
  EXPECT_GE(c->MonotonicNanos() - a, 1'000'000);
}

}  // namespace
}  // namespace cairn
