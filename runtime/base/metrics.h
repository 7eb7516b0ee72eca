// MetricsRegistry: every metric one process exports on /metrics, in one
// prometheus::Registry (prometheus-cpp), rendered by its TextSerializer in
// the Prometheus text exposition format (version 0.0.4). Components register
// what they count when they are built, keep the references they get back and
// update them as things happen; the process's /metrics handler calls Render.
//
//   MetricsRegistry metrics;
//   prometheus::Counter& served = metrics.Counter("cairn_x_total", "Xs served.", {{"api", "openai"}});
//   served.Increment();
//   metrics.GaugeFunction("cairn_queue_depth", "Jobs waiting.", {}, [&] { return queue.Depth(); });
//
// Names: registering a name again with the same type returns the same family
// (its first help text stays), and the same labels again the same metric. A
// name or label name that is not a valid Prometheus name, or a name already
// registered as another type, is a programming error (names are constants)
// and throws std::invalid_argument, as prometheus-cpp does.
// A family with no metric in it is not rendered: register each label set a
// component will report (with value 0) up front if it should appear at 0.
// Lifetime: the references returned live as long as the registry.
// Thread safety: every method may be called from any thread. Updating a
// metric (Increment, Set, Observe) never takes the registry's lock.
#ifndef CAIRN_RUNTIME_BASE_METRICS_H_
#define CAIRN_RUNTIME_BASE_METRICS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/labels.h>
#include <prometheus/metric_type.h>
#include <prometheus/registry.h>

#include "runtime/base/mutex.h"

namespace cairn {

class MetricsRegistry {
 public:
  // The Content-Type of Render's text.
  static constexpr char kContentType[] = "text/plain; version=0.0.4; charset=utf-8";

  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // A family, for metrics whose labels are known only later (a job id):
  // family.Add({{"job", id}}) returns that job's metric, family.Remove drops it.
  prometheus::Family<prometheus::Counter>& CounterFamily(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Gauge>& GaugeFamily(const std::string& name, const std::string& help);
  prometheus::Family<prometheus::Histogram>& HistogramFamily(const std::string& name, const std::string& help);

  // One metric of a family. `bounds` are a histogram's bucket upper bounds,
  // increasing; an observation on a bound counts in that bucket (le), and a
  // +Inf bucket follows. Asking for a histogram's labels again returns the
  // first one, whatever `bounds` says.
  prometheus::Counter& Counter(const std::string& name, const std::string& help, const prometheus::Labels& labels = {});
  prometheus::Gauge& Gauge(const std::string& name, const std::string& help, const prometheus::Labels& labels = {});
  prometheus::Histogram& Histogram(const std::string& name, const std::string& help, const std::vector<double>& bounds,
                                   const prometheus::Labels& labels = {});

  // A metric whose value is read when rendered, for state another component
  // already keeps (a queue's depth, the ledger's size, a stats struct's
  // counts). `read` runs on the thread calling Render, with no lock of the
  // registry held; what it captures must outlive the registry's last Render.
  // A counter's `read` must never decrease. The same name and labels again
  // replace the earlier `read`.
  void CounterFunction(const std::string& name, const std::string& help, const prometheus::Labels& labels,
                       std::function<double()> read);
  void GaugeFunction(const std::string& name, const std::string& help, const prometheus::Labels& labels,
                     std::function<double()> read);

  // Every metric, as Prometheus text. Blocks only on metrics' own locks and
  // the `read` functions.
  std::string Render() const;

 private:
  struct FunctionFamily {
    std::string help;
    prometheus::MetricType type;
    std::map<prometheus::Labels, std::function<double()>> reads;
  };
  // Claims `name` for `type`; throws if it is taken by another type.
  void Claim(const std::string& name, prometheus::MetricType type);
  void AddFunction(const std::string& name, const std::string& help, prometheus::MetricType type,
                   const prometheus::Labels& labels, std::function<double()> read);

  prometheus::Registry registry_;
  mutable Mutex mu_;
  std::map<std::string, prometheus::MetricType> types_ GUARDED_BY(mu_);  // every name registered
  std::map<std::string, FunctionFamily> functions_ GUARDED_BY(mu_);
};

// Bucket bounds for request latencies in seconds: 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_METRICS_H_
