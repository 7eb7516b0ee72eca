// Robust aggregation of DiLoCo pseudo-gradients (strategy option
// `aggregate`), so that one poisoned update cannot wreck a round before the
// verdicts are in (docs/verification.md):
//   mean           sum in rank order / n (what plain DiLoCo does)
//   trimmed_mean   per coordinate, the mean of the values left after dropping
//                  the k largest and k smallest, k = max(1, floor(n / 4)) for
//                  n >= 3 (n < 3: the mean)
//   centered_clip  Karimireddy, He & Jaggi (ICML 2021): start at the
//                  coordinate-wise median v, then 3 times
//                  v <- v + (1/n) sum_i (x_i - v) * min(1, tau / |x_i - v|),
//                  tau = the median of |x_i - median| (scale-free)
// Every rank computes the same bits: plain loops in a fixed order, doubles
// for norms, no threads, no library reductions (whose order could depend on
// a worker's thread count).
// Free of LibTorch; the coordinator's audit uses CoordinateMedian as the
// round's robust centre.
// Thread safety: pure functions.
#ifndef CAIRN_TRAIN_AGGREGATE_H_
#define CAIRN_TRAIN_AGGREGATE_H_

#include <cstddef>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::train {

enum class Aggregate { kMean, kTrimmedMean, kCenteredClip };

StatusOr<Aggregate> ParseAggregate(const std::string& name);
const char* AggregateName(Aggregate a);

// out[j] <- the aggregate of rows[i][j], i < n; each row holds d floats.
void AggregateRows(Aggregate a, const std::vector<const float*>& rows, size_t d, float* out);
// out[j] <- the median of rows[i][j] (the mean of the middle two for even n).
void CoordinateMedian(const std::vector<const float*>& rows, size_t d, float* out);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_AGGREGATE_H_
