// Robust aggregation (train/aggregate.h) on hand-made updates.
#include "train/aggregate.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace cairn::train {
namespace {

// Four updates: three honest (a shared direction plus noise), one poisoned.
std::vector<std::vector<float>> Updates(size_t d, float poison_scale) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0, 0.1f);
  std::vector<float> truth(d);
  for (auto& v : truth) v = noise(rng) * 10;
  std::vector<std::vector<float>> rows;
  for (int i = 0; i < 4; ++i) {
    std::vector<float> r(d);
    for (size_t j = 0; j < d; ++j) r[j] = truth[j] + noise(rng);
    rows.push_back(r);
  }
  for (auto& v : rows[3]) v *= poison_scale;
  return rows;
}
double Distance(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t j = 0; j < a.size(); ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return std::sqrt(s);
}
std::vector<float> Combine(Aggregate a, const std::vector<std::vector<float>>& rows) {
  std::vector<const float*> ptrs;
  for (const auto& r : rows) ptrs.push_back(r.data());
  std::vector<float> out(rows[0].size());
  AggregateRows(a, ptrs, out.size(), out.data());
  return out;
}

TEST(Aggregate, RobustRulesBoundAScaledUpdateAndMeanDoesNot) {
  const auto honest = Combine(Aggregate::kMean, {Updates(500, 1)[0], Updates(500, 1)[1], Updates(500, 1)[2]});
  const auto poisoned = Updates(500, 100);
  const double mean = Distance(Combine(Aggregate::kMean, poisoned), honest);
  const double trimmed = Distance(Combine(Aggregate::kTrimmedMean, poisoned), honest);
  const double clipped = Distance(Combine(Aggregate::kCenteredClip, poisoned), honest);
  const double scale = Distance(honest, std::vector<float>(500, 0));
  EXPECT_GT(mean, 10 * scale) << "one update x100 drags the mean 25x off";
  EXPECT_LT(trimmed, 0.2 * scale);
  EXPECT_LT(clipped, 0.5 * scale);
}

TEST(Aggregate, WithoutAnOutlierTheRulesAgreeWithTheMean) {
  const auto rows = Updates(300, 1);
  const auto mean = Combine(Aggregate::kMean, rows);
  const double scale = Distance(mean, std::vector<float>(300, 0));
  EXPECT_LT(Distance(Combine(Aggregate::kTrimmedMean, rows), mean), 0.05 * scale);
  EXPECT_LT(Distance(Combine(Aggregate::kCenteredClip, rows), mean), 0.05 * scale);
}

TEST(Aggregate, FewerThanThreeIsTheMeanAndEveryRuleIsDeterministic) {
  const auto rows = Updates(64, 1);
  const std::vector<std::vector<float>> two{rows[0], rows[1]};
  EXPECT_EQ(Combine(Aggregate::kTrimmedMean, two), Combine(Aggregate::kMean, two));
  for (Aggregate a : {Aggregate::kMean, Aggregate::kTrimmedMean, Aggregate::kCenteredClip}) {
    EXPECT_EQ(Combine(a, rows), Combine(a, rows)) << AggregateName(a);
  }
  EXPECT_EQ(ParseAggregate("trimmed_mean").value(), Aggregate::kTrimmedMean);
  EXPECT_EQ(ParseAggregate("median").status().code(), StatusCode::kInvalidArgument);
}

TEST(Aggregate, MedianOfEvenAndOdd) {
  std::vector<float> a{1, 10}, b{3, 20}, c{2, 30}, d{100, 40};
  std::vector<float> out(2);
  CoordinateMedian({a.data(), b.data(), c.data()}, 2, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 20}));
  CoordinateMedian({a.data(), b.data(), c.data(), d.data()}, 2, out.data());
  EXPECT_EQ(out, (std::vector<float>{2.5f, 25}));
}

}  // namespace
}  // namespace cairn::train
