// Histogram: a Prometheus-style histogram with fixed bucket bounds, for
// latencies exported on /metrics. Observe() is lock-free.
// Thread safety: Observe and Render may be called from any thread.
#ifndef CAIRN_RUNTIME_BASE_HISTOGRAM_H_
#define CAIRN_RUNTIME_BASE_HISTOGRAM_H_

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace cairn {

class Histogram {
 public:
  // `bounds` are the buckets' upper bounds, increasing (an implicit +Inf
  // bucket follows).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Prometheus text exposition for a metric called `name`.
  std::string Render(const std::string& name, const std::string& help) const;
  uint64_t count() const { return count_.load(); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_nanos_{0};  // sum in units of 1e-9
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_HISTOGRAM_H_
