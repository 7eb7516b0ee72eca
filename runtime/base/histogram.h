// Histogram: a latency histogram that renders itself as Prometheus text.
// Deprecated: kept only until coordinator/ registers its placement latency in
// its MetricsRegistry (runtime/base/metrics.h: MetricsRegistry::Histogram);
// delete this file, histogram.cc and histogram_test.cc then. It renders
// through prometheus-cpp, as every other metric does.
// Thread safety: Observe, Render and count may be called from any thread.
#ifndef CAIRN_RUNTIME_BASE_HISTOGRAM_H_
#define CAIRN_RUNTIME_BASE_HISTOGRAM_H_

#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/histogram.h>

namespace cairn {

class Histogram {
 public:
  // `bounds` are the buckets' upper bounds, increasing (an implicit +Inf
  // bucket follows).
  explicit Histogram(std::vector<double> bounds) : histogram_(bounds) {}
  void Observe(double value) { histogram_.Observe(value); }
  // Prometheus text exposition for a metric called `name`.
  std::string Render(const std::string& name, const std::string& help) const;
  uint64_t count() const;

 private:
  prometheus::Histogram histogram_;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_HISTOGRAM_H_
