// Mutex and MutexLock: std::mutex with clang thread-safety annotations, so
// that `-Wthread-safety` (on in clang builds) checks lock discipline:
//   Mutex mu_;
//   std::map<K, V> table_ GUARDED_BY(mu_);
//   void Touch() EXCLUSIVE_LOCKS_REQUIRED(mu_);
// With GCC the annotations compile to nothing.
// Thread safety: a Mutex is, by definition, shared between threads.
#ifndef CAIRN_RUNTIME_BASE_MUTEX_H_
#define CAIRN_RUNTIME_BASE_MUTEX_H_

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
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

 private:
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

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_MUTEX_H_
