#include "scheduler/meter.h"

#include <algorithm>

namespace cairn::scheduler {

Meter::Meter(MeterOptions options) : clock_(options.clock) {}

void Meter::Record(const std::string& model_hash, const std::string& consumer, const std::string& worker_key, uint64_t tokens,
                   uint64_t charge_micros, uint64_t worker_micros) {
  const int64_t when = clock_->NowUnixMillis();
  MutexLock l(&mu_);
  Usage& u = open_[{model_hash, consumer, worker_key}];
  if (u.requests == 0) {
    u.model_hash = model_hash;
    u.consumer = consumer;
    u.worker_key = worker_key;
    u.window_start_ms = when;
  }
  u.window_start_ms = std::min(u.window_start_ms, when);  // wall time may step back
  ++u.requests;
  u.tokens += tokens;
  u.charge_micros += charge_micros;
  u.worker_micros += worker_micros;
  u.window_end_ms = std::max(u.window_end_ms, when);
  pending_[consumer] += charge_micros;
  ++requests_;
  tokens_ += tokens;
}

std::vector<Usage> Meter::Take() {
  MutexLock l(&mu_);
  std::vector<Usage> out;
  for (auto& [key, u] : open_) out.push_back(std::move(u));
  open_.clear();
  return out;
}

void Meter::Restore(const Usage& usage) {
  MutexLock l(&mu_);
  Usage& u = open_[{usage.model_hash, usage.consumer, usage.worker_key}];
  if (u.requests == 0) {
    u = usage;
    return;
  }
  u.requests += usage.requests;
  u.tokens += usage.tokens;
  u.charge_micros += usage.charge_micros;
  u.worker_micros += usage.worker_micros;
  u.window_start_ms = std::min(u.window_start_ms, usage.window_start_ms);
  u.window_end_ms = std::max(u.window_end_ms, usage.window_end_ms);
}

void Meter::Settle(const std::string& consumer, uint64_t amount) {
  MutexLock l(&mu_);
  auto p = pending_.find(consumer);
  if (p == pending_.end()) return;
  p->second -= std::min(p->second, amount);
  if (p->second == 0) pending_.erase(p);
}

uint64_t Meter::PendingTotal() const {
  MutexLock l(&mu_);
  uint64_t total = 0;
  for (const auto& [consumer, micros] : pending_) total += micros;
  return total;
}

uint64_t Meter::Pending(const std::string& consumer) const {
  MutexLock l(&mu_);
  auto it = pending_.find(consumer);
  return it == pending_.end() ? 0 : it->second;
}

bool Meter::Reserve(const std::string& consumer, uint64_t amount, int64_t available) {
  MutexLock l(&mu_);
  auto p = pending_.find(consumer);
  auto h = held_.find(consumer);
  const int64_t left = available - static_cast<int64_t>(p == pending_.end() ? 0 : p->second) -
                       static_cast<int64_t>(h == held_.end() ? 0 : h->second);
  if (left < static_cast<int64_t>(amount)) return false;
  held_[consumer] += amount;
  return true;
}

void Meter::Release(const std::string& consumer, uint64_t amount) {
  MutexLock l(&mu_);
  auto h = held_.find(consumer);
  if (h == held_.end()) return;
  h->second -= std::min(h->second, amount);
  if (h->second == 0) held_.erase(h);
}

uint64_t Meter::Held(const std::string& consumer) const {
  MutexLock l(&mu_);
  auto it = held_.find(consumer);
  return it == held_.end() ? 0 : it->second;
}

uint64_t Meter::requests() const {
  MutexLock l(&mu_);
  return requests_;
}

uint64_t Meter::tokens() const {
  MutexLock l(&mu_);
  return tokens_;
}

uint64_t ChargeFor(uint64_t tokens, uint64_t per_request_micros, uint64_t per_1k_tokens_micros) {
  return per_request_micros + (tokens * per_1k_tokens_micros + 999) / 1000;
}

}  // namespace cairn::scheduler
