#include "runtime/base/mutex.h"

#include <chrono>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cairn {
namespace {

using std::chrono::steady_clock;

// How long a test waits for another thread before it fails (never reached
// when the code is right; generous for sanitizer builds on a loaded machine).
constexpr std::chrono::seconds kDeadline(30);
// How often a deadline-bounded wait looks at the clock.
constexpr std::chrono::milliseconds kPoll(10);

struct Shared {
  Mutex mu;
  CondVar changed;
  int value GUARDED_BY(mu) = 0;
  int waiting GUARDED_BY(mu) = 0;  // threads inside their wait loop
  bool go GUARDED_BY(mu) = false;
};

// Waits, holding s->mu, until s->waiting reaches `n` or the deadline passes.
// Returns whether it did.
bool AwaitWaiting(Shared* s, int n) EXCLUSIVE_LOCKS_REQUIRED(s->mu) {
  const auto deadline = steady_clock::now() + kDeadline;
  while (s->waiting < n) {
    if (steady_clock::now() >= deadline) return false;
    s->changed.WaitFor(&s->mu, kPoll);
  }
  return true;
}

TEST(Mutex, MutexLockExcludesOtherThreads) {
  Shared s;
  constexpr int kThreads = 4, kEach = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&s] {
      for (int i = 0; i < kEach; ++i) {
        MutexLock l(&s.mu);
        ++s.value;  // a lost update here would show as a short count
      }
    });
  }
  for (auto& t : threads) t.join();
  MutexLock l(&s.mu);
  EXPECT_EQ(s.value, kThreads * kEach);
}

TEST(CondVar, SignalWakesAWaiter) {
  Shared s;
  std::thread waiter([&s] {
    MutexLock l(&s.mu);
    ++s.waiting;
    s.changed.SignalAll();  // tell the test thread we are in the loop
    while (!s.go) s.changed.Wait(&s.mu);
    s.value = 1;
  });
  {
    MutexLock l(&s.mu);
    EXPECT_TRUE(AwaitWaiting(&s, 1));
    s.go = true;
  }
  s.changed.Signal();
  waiter.join();
  MutexLock l(&s.mu);
  EXPECT_EQ(s.value, 1);
}

TEST(CondVar, SignalAllWakesEveryWaiter) {
  Shared s;
  constexpr int kWaiters = 3;
  std::vector<std::thread> waiters;
  for (int t = 0; t < kWaiters; ++t) {
    waiters.emplace_back([&s] {
      MutexLock l(&s.mu);
      ++s.waiting;
      s.changed.SignalAll();
      while (!s.go) s.changed.Wait(&s.mu);
      ++s.value;
      s.changed.SignalAll();
    });
  }
  {
    MutexLock l(&s.mu);
    // Once all have counted themselves they are all blocked in Wait (each
    // released the mutex only by waiting), so one SignalAll must wake them all.
    EXPECT_TRUE(AwaitWaiting(&s, kWaiters));
    s.go = true;
    s.changed.SignalAll();
    const auto deadline = steady_clock::now() + kDeadline;
    while (s.value < kWaiters && steady_clock::now() < deadline) s.changed.WaitFor(&s.mu, kPoll);
    EXPECT_EQ(s.value, kWaiters);
  }
  for (auto& t : waiters) t.join();
}

TEST(CondVar, WaitForTimesOutWhenNobodySignals) {
  Shared s;
  MutexLock l(&s.mu);
  constexpr auto kTimeout = std::chrono::milliseconds(5);
  const auto deadline = steady_clock::now() + kDeadline;
  bool woken = true;
  auto started = steady_clock::now();
  // Spurious wake-ups return true; a timeout must come within the deadline.
  while (woken && steady_clock::now() < deadline) {
    started = steady_clock::now();
    woken = s.changed.WaitFor(&s.mu, kTimeout);
  }
  EXPECT_FALSE(woken);
  EXPECT_GE(steady_clock::now() - started, kTimeout);
  ++s.value;  // the mutex is held again after the timeout
  EXPECT_EQ(s.value, 1);
}

TEST(CondVar, WaitForReturnsTrueWhenSignalledBeforeTheTimeout) {
  Shared s;
  bool woken = false;
  std::thread waiter([&] {
    MutexLock l(&s.mu);
    ++s.waiting;
    s.changed.SignalAll();
    while (!s.go) woken = s.changed.WaitFor(&s.mu, std::chrono::hours(1));
  });
  {
    MutexLock l(&s.mu);
    EXPECT_TRUE(AwaitWaiting(&s, 1));
    s.go = true;
  }
  s.changed.SignalAll();
  waiter.join();  // long before the hour: the signal woke it
  EXPECT_TRUE(woken);
}

}  // namespace
}  // namespace cairn
