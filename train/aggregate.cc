#include "train/aggregate.h"

#include <algorithm>
#include <cmath>

namespace cairn::train {
namespace {

// The median of v (sorted in place).
float MedianOf(std::vector<float>& v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : static_cast<float>((static_cast<double>(v[n / 2 - 1]) + v[n / 2]) / 2.0);
}

double Distance(const float* x, const std::vector<float>& v) {
  double s = 0;
  for (size_t j = 0; j < v.size(); ++j) {
    const double d = static_cast<double>(x[j]) - v[j];
    s += d * d;
  }
  return std::sqrt(s);
}

void Mean(const std::vector<const float*>& rows, size_t d, float* out) {
  const double n = static_cast<double>(rows.size());
  for (size_t j = 0; j < d; ++j) {
    double s = 0;
    for (const float* r : rows) s += r[j];
    out[j] = static_cast<float>(s / n);
  }
}

void TrimmedMean(const std::vector<const float*>& rows, size_t d, float* out) {
  const size_t n = rows.size();
  const size_t k = std::max<size_t>(1, n / 4);
  std::vector<float> col(n);
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < n; ++i) col[i] = rows[i][j];
    std::sort(col.begin(), col.end());
    double s = 0;
    for (size_t i = k; i < n - k; ++i) s += col[i];
    out[j] = static_cast<float>(s / static_cast<double>(n - 2 * k));
  }
}

void CenteredClip(const std::vector<const float*>& rows, size_t d, float* out) {
  const size_t n = rows.size();
  std::vector<float> v(d);
  CoordinateMedian(rows, d, v.data());
  std::vector<float> dist(n);
  for (size_t i = 0; i < n; ++i) dist[i] = static_cast<float>(Distance(rows[i], v));
  const double tau = MedianOf(dist);
  std::vector<double> step(d);
  for (int iter = 0; iter < 3; ++iter) {
    std::fill(step.begin(), step.end(), 0.0);
    for (const float* x : rows) {
      const double norm = Distance(x, v);
      const double scale = norm > tau && norm > 0 ? tau / norm : 1.0;
      for (size_t j = 0; j < d; ++j) step[j] += (static_cast<double>(x[j]) - v[j]) * scale;
    }
    for (size_t j = 0; j < d; ++j) v[j] = static_cast<float>(v[j] + step[j] / static_cast<double>(n));
  }
  std::copy(v.begin(), v.end(), out);
}

}  // namespace

StatusOr<Aggregate> ParseAggregate(const std::string& name) {
  if (name == "mean") return Aggregate::kMean;
  if (name == "trimmed_mean") return Aggregate::kTrimmedMean;
  if (name == "centered_clip") return Aggregate::kCenteredClip;
  return InvalidArgumentError("must be mean, trimmed_mean or centered_clip, got '" + name + "'");
}

const char* AggregateName(Aggregate a) {
  switch (a) {
    case Aggregate::kMean: return "mean";
    case Aggregate::kTrimmedMean: return "trimmed_mean";
    case Aggregate::kCenteredClip: return "centered_clip";
  }
  return "mean";
}

void CoordinateMedian(const std::vector<const float*>& rows, size_t d, float* out) {
  std::vector<float> col(rows.size());
  for (size_t j = 0; j < d; ++j) {
    for (size_t i = 0; i < rows.size(); ++i) col[i] = rows[i][j];
    out[j] = MedianOf(col);
  }
}

void AggregateRows(Aggregate a, const std::vector<const float*>& rows, size_t d, float* out) {
  if (rows.empty()) return;
  if (a == Aggregate::kMean || rows.size() < 3) return Mean(rows, d, out);
  if (a == Aggregate::kTrimmedMean) return TrimmedMean(rows, d, out);
  CenteredClip(rows, d, out);
}

}  // namespace cairn::train
