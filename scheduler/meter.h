// Inference metering: what each consumer owes for what each serving worker
// answered, per model, accumulated between flushes. The coordinator takes
// the totals at least once a second and appends one inferenceUsage ledger
// entry per (model, consumer, worker) with requests, tokens, the charge and
// the worker's part; the payout engine pays the worker and splits the rest
// across the model's lineage. Until a flush, a consumer's unflushed charges
// count against its credits (Pending), so it cannot overspend between them.
// A usage's window (first and last request) is read from the injected clock.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_SCHEDULER_METER_H_
#define CAIRN_SCHEDULER_METER_H_

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/base/mutex.h"

namespace cairn::scheduler {

struct Usage {
  std::string model_hash, consumer, worker_key;  // raw 32-byte values
  uint64_t requests = 0, tokens = 0, charge_micros = 0, worker_micros = 0;
  int64_t window_start_ms = 0, window_end_ms = 0;
};

struct MeterOptions {
  const Clock* clock = Clock::System();  // must outlive the meter
};

class Meter {
 public:
  explicit Meter(MeterOptions options = {});
  // Adds one served request, at the clock's time now.
  void Record(const std::string& model_hash, const std::string& consumer, const std::string& worker_key, uint64_t tokens,
              uint64_t charge_micros, uint64_t worker_micros);
  // Everything recorded since the last call, and clears it. What it owes
  // stays pending until Settle (call it once the ledger holds the entry).
  std::vector<Usage> Take();
  void Settle(const std::string& consumer, uint64_t amount);
  // Puts a usage from Take back, to go out with the next flush (its ledger
  // entry could not be made now). Its charge is still pending; lifetime
  // totals are not counted twice.
  void Restore(const Usage& usage);
  uint64_t Pending(const std::string& consumer) const;
  // Every consumer's pending charges: metered, not yet durable in the ledger.
  uint64_t PendingTotal() const;
  // Holds `amount` of the consumer's credits for a request in flight, if
  // `available` less what is pending and held covers it (check and hold are
  // one step, so concurrent requests cannot overspend). Release it when the
  // request ends (and Record what it actually cost).
  bool Reserve(const std::string& consumer, uint64_t amount, int64_t available);
  void Release(const std::string& consumer, uint64_t amount);
  // What Reserve holds for the consumer's requests in flight.
  uint64_t Held(const std::string& consumer) const;
  // Lifetime totals (for /metrics).
  uint64_t requests() const;
  uint64_t tokens() const;

 private:
  const Clock* const clock_;
  mutable Mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, Usage> open_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> pending_ GUARDED_BY(mu_);
  std::map<std::string, uint64_t> held_ GUARDED_BY(mu_);
  uint64_t requests_ GUARDED_BY(mu_) = 0, tokens_ GUARDED_BY(mu_) = 0;
};

// What one request costs at a model's prices: per request, plus tokens at
// the per-1,000 price rounded up to the micro-credit.
uint64_t ChargeFor(uint64_t tokens, uint64_t per_request_micros, uint64_t per_1k_tokens_micros);

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_METER_H_
