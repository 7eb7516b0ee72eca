#include "runtime/crypto/replay_cache.h"

#include <iterator>

namespace cairn {

ReplayCache::ReplayCache(const Clock* clock, int64_t max_skew_millis)
    : clock_(clock), max_skew_millis_(max_skew_millis) {}

void ReplayCache::Forget(int64_t now) {
  // VerifyRequest accepts a signing time up to now - window (inclusive): an
  // entry may go once now is past its time + window.
  while (!by_expiry_.empty() && by_expiry_.begin()->first < now) {
    seen_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

bool ReplayCache::FirstUse(std::string_view signature, int64_t signed_unix_millis) {
  return FirstUseAt(signature, signed_unix_millis, clock_->NowUnixMillis());
}

bool ReplayCache::FirstUseAt(std::string_view signature, int64_t signed_unix_millis, int64_t now) {
  MutexLock l(&mu_);
  Forget(now);
  if (!seen_.emplace(signature).second) return false;
  by_expiry_.emplace(signed_unix_millis + max_skew_millis_, std::string(signature));
  return true;
}

StatusOr<VerifiedSigner> ReplayCache::Verify(std::string_view header, std::string_view method, std::string_view path,
                                             std::string_view body) {
  const int64_t now = clock_->NowUnixMillis();
  ASSIGN_OR_RETURN(VerifiedSigner s, VerifyRequest(header, method, path, body, now, max_skew_millis_));
  if (!FirstUseAt(s.signature, s.unix_millis, now)) return UnauthenticatedError("this signed request was already used (replay)");
  return s;
}

size_t ReplayCache::size() const {
  const int64_t now = clock_->NowUnixMillis();
  MutexLock l(&mu_);
  // Those not yet forgotten, less the expired ones at the front.
  return static_cast<size_t>(std::distance(by_expiry_.lower_bound({now, std::string()}), by_expiry_.end()));
}

}  // namespace cairn
