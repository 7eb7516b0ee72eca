#include "runtime/base/histogram.h"

#include <algorithm>
#include <cstdio>

namespace cairn {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[i].fetch_add(1);
  count_.fetch_add(1);
  sum_nanos_.fetch_add(static_cast<uint64_t>(std::max(0.0, value) * 1e9));
}

std::string Histogram::Render(const std::string& name, const std::string& help) const {
  std::string out = "# HELP " + name + " " + help + "\n# TYPE " + name + " histogram\n";
  uint64_t cumulative = 0;
  char buf[512];  // room for a long metric name three times over
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += buckets_[i].load();
    std::snprintf(buf, sizeof(buf), "%s_bucket{le=\"%g\"} %llu\n", name.c_str(), bounds_[i],
                  static_cast<unsigned long long>(cumulative));
    out += buf;
  }
  cumulative += buckets_[bounds_.size()].load();
  std::snprintf(buf, sizeof(buf), "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.9f\n%s_count %llu\n", name.c_str(),
                static_cast<unsigned long long>(cumulative), name.c_str(),
                static_cast<double>(sum_nanos_.load()) / 1e9, name.c_str(),
                static_cast<unsigned long long>(count_.load()));
  return out + buf;
}

}  // namespace cairn
