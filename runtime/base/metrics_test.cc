#include "runtime/base/metrics.h"

#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace cairn {
namespace {

bool Has(const std::string& text, const std::string& line) { return text.find(line) != std::string::npos; }

TEST(MetricsRegistry, RendersCountersAndGaugesWithLabels) {
  MetricsRegistry m;
  m.Counter("cairn_test_requests_total", "Requests.", {{"api", "openai"}, {"code", "2xx"}}).Increment(3);
  m.Counter("cairn_test_requests_total", "Requests.", {{"api", "kserve"}, {"code", "2xx"}});
  m.Gauge("cairn_test_replicas", "Replicas.").Set(2);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# HELP cairn_test_requests_total Requests.\n# TYPE cairn_test_requests_total counter\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_requests_total{api=\"openai\",code=\"2xx\"} 3\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_requests_total{api=\"kserve\",code=\"2xx\"} 0\n")) << text;
  EXPECT_TRUE(Has(text, "# TYPE cairn_test_replicas gauge\ncairn_test_replicas 2\n")) << text;
}

TEST(MetricsRegistry, SameNameAndLabelsAreTheSameMetric) {
  MetricsRegistry m;
  prometheus::Counter& a = m.Counter("cairn_test_total", "A.", {{"k", "v"}});
  prometheus::Counter& b = m.Counter("cairn_test_total", "A.", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &m.Counter("cairn_test_total", "A.", {{"k", "w"}}));
}

TEST(MetricsRegistry, HistogramBucketsAreCumulativeAndInclusive) {
  MetricsRegistry m;
  prometheus::Histogram& h = m.Histogram("cairn_test_seconds", "A test.", {0.001, 0.01, 0.1});
  h.Observe(0.0005);
  h.Observe(0.001);  // on a bound: counted in that bucket (le)
  h.Observe(0.05);
  h.Observe(3);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# TYPE cairn_test_seconds histogram\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_bucket{le=\"0.001\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_bucket{le=\"0.01\"} 2\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_bucket{le=\"0.1\"} 3\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_bucket{le=\"+Inf\"} 4\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_count 4\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_seconds_sum 3.0515\n")) << text;
}

TEST(MetricsRegistry, FamiliesTakeLabelsLater) {
  MetricsRegistry m;
  auto& rounds = m.GaugeFamily("cairn_test_round", "Round.");
  EXPECT_FALSE(Has(m.Render(), "cairn_test_round")) << "a family with no metric is not rendered";
  rounds.Add({{"job", "j1"}}).Set(4);
  auto& j2 = rounds.Add({{"job", "j2"}});
  j2.Set(7);
  EXPECT_TRUE(Has(m.Render(), "cairn_test_round{job=\"j1\"} 4\n"));
  EXPECT_TRUE(Has(m.Render(), "cairn_test_round{job=\"j2\"} 7\n"));
  rounds.Remove(&j2);
  EXPECT_FALSE(Has(m.Render(), "job=\"j2\""));
}

TEST(MetricsRegistry, LabelValuesAreEscaped) {
  MetricsRegistry m;
  m.Gauge("cairn_test_loss", "Loss.", {{"job", "a\"b\\c\nd"}}).Set(1.5);
  EXPECT_TRUE(Has(m.Render(), "cairn_test_loss{job=\"a\\\"b\\\\c\\nd\"} 1.5\n")) << m.Render();
}

TEST(MetricsRegistry, FunctionsAreReadWhenRendered) {
  MetricsRegistry m;
  int alive = 2, dead = 1;
  double heartbeats = 10;
  m.GaugeFunction("cairn_test_workers", "Workers, by state.", {{"state", "alive"}}, [&] { return alive; });
  m.GaugeFunction("cairn_test_workers", "Workers, by state.", {{"state", "dead"}}, [&] { return dead; });
  m.CounterFunction("cairn_test_heartbeats_total", "Heartbeats.", {}, [&] { return heartbeats; });
  std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# TYPE cairn_test_workers gauge\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_workers{state=\"alive\"} 2\ncairn_test_workers{state=\"dead\"} 1\n")) << text;
  EXPECT_TRUE(Has(text, "# TYPE cairn_test_heartbeats_total counter\ncairn_test_heartbeats_total 10\n")) << text;
  alive = 3;
  heartbeats = 12;
  text = m.Render();
  EXPECT_TRUE(Has(text, "cairn_test_workers{state=\"alive\"} 3\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_heartbeats_total 12\n")) << text;
}

TEST(MetricsRegistry, FunctionsMayRegisterMetricsWhileRendered) {
  // `read` runs with no registry lock held: a read that touches the registry
  // (as an owner holding its own lock while registering might) cannot deadlock.
  MetricsRegistry m;
  m.GaugeFunction("cairn_test_depth", "Depth.", {}, [&] {
    m.Counter("cairn_test_late_total", "Registered during a render.");
    return 1.0;
  });
  EXPECT_TRUE(Has(m.Render(), "cairn_test_depth 1\n"));
  EXPECT_TRUE(Has(m.Render(), "cairn_test_late_total 0\n"));
}

TEST(MetricsRegistry, BadNamesAndTypeClashesThrow) {
  MetricsRegistry m;
  EXPECT_THROW(m.Counter("not a name", "x"), std::invalid_argument);
  EXPECT_THROW(m.GaugeFunction("cairn_test_x", "x", {{"bad label", "v"}}, [] { return 0.0; }), std::invalid_argument);
  m.Counter("cairn_test_clash", "x");
  EXPECT_THROW(m.Gauge("cairn_test_clash", "x"), std::invalid_argument);
  EXPECT_THROW(m.GaugeFunction("cairn_test_clash", "x", {}, [] { return 0.0; }), std::invalid_argument);
  m.GaugeFunction("cairn_test_fn", "x", {}, [] { return 0.0; });
  EXPECT_THROW(m.Histogram("cairn_test_fn", "x", {1}), std::invalid_argument);
}

TEST(MetricsRegistry, ConcurrentUpdatesAndRendersAddUp) {
  MetricsRegistry m;
  prometheus::Counter& c = m.Counter("cairn_test_hits_total", "Hits.");
  prometheus::Histogram& h = m.Histogram("cairn_test_latency_seconds", "Latency.", LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        c.Increment();
        h.Observe(0.002);
        if (i % 100 == 0) m.Render();
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "cairn_test_hits_total 4000\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_latency_seconds_count 4000\n")) << text;
  EXPECT_TRUE(Has(text, "cairn_test_latency_seconds_bucket{le=\"0.0025\"} 4000\n")) << text;
}

}  // namespace
}  // namespace cairn
