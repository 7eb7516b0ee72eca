// ReplayCache: the signed HTTP requests (request_signature.h) a server has
// accepted, so that each signed request works once. A signature is
// remembered until its signing time plus the skew window has passed on the
// injected clock; from then on VerifyRequest refuses it as stale, so the
// cache never holds more than the requests accepted in two windows.
// Invariant: a signature accepted at wall time T is refused as a replay
// until T' > its signing time + the window (a wall clock stepping back past
// that, after it was forgotten, would admit it again: the cache keeps no
// history beyond the window).
// Thread safety: every method may be called from any thread; Verify and
// FirstUse are atomic (two threads offering one signature: one wins).
#ifndef CAIRN_RUNTIME_CRYPTO_REPLAY_CACHE_H_
#define CAIRN_RUNTIME_CRYPTO_REPLAY_CACHE_H_

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "runtime/base/clock.h"
#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"
#include "runtime/crypto/request_signature.h"

namespace cairn {

class ReplayCache {
 public:
  // `clock` must outlive the cache; `max_skew_millis` is the window
  // VerifyRequest is given.
  explicit ReplayCache(const Clock* clock = Clock::System(), int64_t max_skew_millis = kMaxRequestSkewMillis);

  // Verifies the request's signature header at the clock's time (VerifyRequest)
  // and remembers it. Unauthenticated naming the problem for a missing,
  // malformed, stale or wrong signature, and for one accepted before (a
  // replay); nothing is remembered then.
  StatusOr<VerifiedSigner> Verify(std::string_view header, std::string_view method, std::string_view path,
                                  std::string_view body);

  // True the first time `signature` (raw bytes, signed at
  // `signed_unix_millis`) is offered, false while it is remembered; for
  // signatures VerifyRequest has accepted.
  bool FirstUse(std::string_view signature, int64_t signed_unix_millis);

  // Signatures remembered and not yet expired.
  size_t size() const;

 private:
  bool FirstUseAt(std::string_view signature, int64_t signed_unix_millis, int64_t now);
  void Forget(int64_t now) EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  const int64_t max_skew_millis_;
  mutable Mutex mu_;
  std::unordered_set<std::string> seen_ GUARDED_BY(mu_);
  std::set<std::pair<int64_t, std::string>> by_expiry_ GUARDED_BY(mu_);  // (signed + window, signature)
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_REPLAY_CACHE_H_
