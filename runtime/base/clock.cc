#include "runtime/base/clock.h"

#include <thread>
#include <time.h>

namespace cairn {
namespace {
int64_t ReadClock(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

Clock* Clock::System() {
  static SystemClock* const kClock = new SystemClock();
  return kClock;
}

int64_t SystemClock::NowUnixNanos() const { return ReadClock(CLOCK_REALTIME); }
int64_t SystemClock::MonotonicNanos() const { return ReadClock(CLOCK_MONOTONIC); }
void SystemClock::SleepFor(Duration d) const { std::this_thread::sleep_for(d); }

void FakeClock::AdvanceBy(Duration d) const {
  if (d.count() <= 0) return;
  unix_nanos_.fetch_add(d.count());
  mono_nanos_.fetch_add(d.count());
}

}  // namespace cairn
