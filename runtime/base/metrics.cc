#include "runtime/base/metrics.h"

#include <stdexcept>
#include <utility>

#include <prometheus/check_names.h>
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace cairn {

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::Claim(const std::string& name, prometheus::MetricType type) {
  if (!prometheus::CheckMetricName(name)) throw std::invalid_argument("metrics: invalid metric name '" + name + "'");
  MutexLock l(&mu_);
  auto [it, inserted] = types_.emplace(name, type);
  if (!inserted && it->second != type) {
    throw std::invalid_argument("metrics: '" + name + "' is already registered as another type");
  }
}

prometheus::Family<prometheus::Counter>& MetricsRegistry::CounterFamily(const std::string& name, const std::string& help) {
  Claim(name, prometheus::MetricType::Counter);
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry_);
}

prometheus::Family<prometheus::Gauge>& MetricsRegistry::GaugeFamily(const std::string& name, const std::string& help) {
  Claim(name, prometheus::MetricType::Gauge);
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry_);
}

prometheus::Family<prometheus::Histogram>& MetricsRegistry::HistogramFamily(const std::string& name,
                                                                            const std::string& help) {
  Claim(name, prometheus::MetricType::Histogram);
  return prometheus::BuildHistogram().Name(name).Help(help).Register(registry_);
}

prometheus::Counter& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                              const prometheus::Labels& labels) {
  return CounterFamily(name, help).Add(labels);
}

prometheus::Gauge& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                          const prometheus::Labels& labels) {
  return GaugeFamily(name, help).Add(labels);
}

prometheus::Histogram& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                                  const std::vector<double>& bounds, const prometheus::Labels& labels) {
  return HistogramFamily(name, help).Add(labels, bounds);
}

void MetricsRegistry::AddFunction(const std::string& name, const std::string& help, prometheus::MetricType type,
                                  const prometheus::Labels& labels, std::function<double()> read) {
  for (const auto& [label, value] : labels) {
    if (!prometheus::CheckLabelName(label)) throw std::invalid_argument("metrics: invalid label name '" + label + "'");
  }
  Claim(name, type);
  MutexLock l(&mu_);
  FunctionFamily& f = functions_[name];
  if (f.reads.empty()) {
    f.help = help;
    f.type = type;
  }
  f.reads[labels] = std::move(read);
}

void MetricsRegistry::CounterFunction(const std::string& name, const std::string& help, const prometheus::Labels& labels,
                                      std::function<double()> read) {
  AddFunction(name, help, prometheus::MetricType::Counter, labels, std::move(read));
}

void MetricsRegistry::GaugeFunction(const std::string& name, const std::string& help, const prometheus::Labels& labels,
                                    std::function<double()> read) {
  AddFunction(name, help, prometheus::MetricType::Gauge, labels, std::move(read));
}

std::string MetricsRegistry::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_.Collect();
  std::map<std::string, FunctionFamily> functions;
  {
    // Copied out, so that no `read` runs under mu_ (it may take its owner's
    // lock, whose holder may be registering a metric).
    MutexLock l(&mu_);
    functions = functions_;
  }
  for (const auto& [name, f] : functions) {
    prometheus::MetricFamily family{name, f.help, f.type, {}};
    for (const auto& [labels, read] : f.reads) {
      prometheus::ClientMetric m;
      for (const auto& [label, value] : labels) m.label.push_back({label, value});
      (f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value) = read();
      family.metric.push_back(std::move(m));
    }
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

std::vector<double> LatencyBuckets() { return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}; }

}  // namespace cairn
