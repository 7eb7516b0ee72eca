// Clock: the source of time for leases, heartbeats and receipts, injected so
// that tests run on fake time (cf. LevelDB's Env, Trillian's TimeSource).
//
// Time is nanoseconds: `Now()` is wall-clock time since the Unix epoch (what
// goes into receipts); `Monotonic()` never goes backwards (what measures
// intervals and deadlines).
//
// Thread safety: every method of every Clock may be called from any thread.
#ifndef CAIRN_RUNTIME_BASE_CLOCK_H_
#define CAIRN_RUNTIME_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace cairn {

using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since 1970-01-01T00:00:00Z.
  virtual int64_t NowUnixNanos() const = 0;
  // Nanoseconds from an arbitrary fixed origin; never decreases.
  virtual int64_t MonotonicNanos() const = 0;
  // Blocks the calling thread for `d` (a fake clock advances instead).
  virtual void SleepFor(Duration d) const = 0;

  int64_t NowUnixMillis() const { return NowUnixNanos() / 1'000'000; }

  // The process-wide real clock. Never null; lives for the whole process.
  static Clock* System();
};

// Reads the real clocks (CLOCK_REALTIME, CLOCK_MONOTONIC).
class SystemClock final : public Clock {
 public:
  int64_t NowUnixNanos() const override;
  int64_t MonotonicNanos() const override;
  void SleepFor(Duration d) const override;
};

// Time that moves only when told to. SleepFor advances it immediately, so
// code under test that sleeps runs at full speed.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_unix_nanos = 1'700'000'000'000'000'000)
      : unix_nanos_(start_unix_nanos) {}
  int64_t NowUnixNanos() const override { return unix_nanos_.load(); }
  int64_t MonotonicNanos() const override { return mono_nanos_.load(); }
  void SleepFor(Duration d) const override { AdvanceBy(d); }
  // Moves both clocks forward by `d` (negative durations are ignored).
  void Advance(Duration d) { AdvanceBy(d); }
  // Sets wall time (may go backwards, as NTP can); monotonic time is unchanged.
  void SetUnixNanos(int64_t t) { unix_nanos_.store(t); }

 private:
  void AdvanceBy(Duration d) const;
  // Mutable: time passes for a const Clock too (SleepFor).
  mutable std::atomic<int64_t> unix_nanos_;
  mutable std::atomic<int64_t> mono_nanos_{0};
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_CLOCK_H_
