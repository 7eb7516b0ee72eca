// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with
// clang thread-safety annotations, so that `-Wthread-safety` (on in clang
// builds, and in the thread_safety_check test) checks lock discipline:
//   Mutex mu_;
//   CondVar changed_;
//   std::map<K, V> table_ GUARDED_BY(mu_);
//   void Touch() EXCLUSIVE_LOCKS_REQUIRED(mu_);
//   ...
//   MutexLock l(&mu_);
//   while (table_.empty()) changed_.Wait(&mu_);  // loop: wake-ups may be spurious
// CondVar has no predicate overloads: the analysis does not see that a
// lambda runs under the caller's lock, so the condition is written as the
// loop above. With GCC the annotations compile to nothing.
// Thread safety: a Mutex and a CondVar are, by definition, shared between
// threads; every method may be called from any thread.
#ifndef CAIRN_RUNTIME_BASE_MUTEX_H_
#define CAIRN_RUNTIME_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define CAIRN_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define CAIRN_THREAD_ANNOTATION_(x)
#endif

#define CAPABILITY(x) CAIRN_THREAD_ANNOTATION_(capability(x))
#define SCOPED_CAPABILITY CAIRN_THREAD_ANNOTATION_(scoped_lockable)
#define GUARDED_BY(x) CAIRN_THREAD_ANNOTATION_(guarded_by(x))
#define PT_GUARDED_BY(x) CAIRN_THREAD_ANNOTATION_(pt_guarded_by(x))
#define EXCLUSIVE_LOCKS_REQUIRED(...) CAIRN_THREAD_ANNOTATION_(exclusive_locks_required(__VA_ARGS__))
#define LOCKS_EXCLUDED(...) CAIRN_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) CAIRN_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CAIRN_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))

namespace cairn {

class CAPABILITY("mutex") Mutex {
 public:
  // Blocks until the calling thread holds the mutex. Not recursive: a thread
  // that already holds it deadlocks.
  void Lock() ACQUIRE() { mu_.lock(); }
  // The calling thread must hold the mutex.
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// A condition variable used with one Mutex at a time. Waiters hold the mutex,
// test their condition and wait in a loop; whoever changes the condition does
// so under the mutex and then signals (holding the mutex or not).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases *mu, blocks until signalled (or woken spuriously), and holds *mu
  // again when it returns. The caller must hold *mu.
  void Wait(Mutex* mu) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // still held: ownership stays with the caller
  }

  // As Wait, but gives up after `timeout`: returns false when the timeout
  // elapsed, true when woken before it (by a signal or spuriously). Holds *mu
  // again when it returns either way.
  bool WaitFor(Mutex* mu, std::chrono::nanoseconds timeout) EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(lock, timeout) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }

  // Wakes one waiter, if any.
  void Signal() { cv_.notify_one(); }
  // Wakes every waiter.
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_MUTEX_H_
