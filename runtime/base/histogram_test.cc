#include "runtime/base/histogram.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(Histogram, RendersCumulativeBucketsSumAndCount) {
  Histogram h({0.001, 0.01, 0.1});
  h.Observe(0.0005);
  h.Observe(0.001);  // on a bound: counted in that bucket (le)
  h.Observe(0.05);
  h.Observe(3);
  std::string text = h.Render("cairn_test_seconds", "A test.");
  EXPECT_NE(text.find("# TYPE cairn_test_seconds histogram"), std::string::npos);
  EXPECT_NE(text.find("cairn_test_seconds_bucket{le=\"0.001\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_test_seconds_bucket{le=\"0.01\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_test_seconds_bucket{le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_test_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_test_seconds_count 4\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_test_seconds_sum 3.0515"), std::string::npos) << text;
}

// Regression: the closing lines were cut short for long metric names.
TEST(Histogram, LongNamesKeepTheirClosingLines) {
  Histogram h({1});
  h.Observe(0.5);
  std::string name = "cairn_a_rather_long_metric_name_for_placement_latency_seconds";
  std::string text = h.Render(name, "x");
  EXPECT_NE(text.find(name + "_count 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace cairn
