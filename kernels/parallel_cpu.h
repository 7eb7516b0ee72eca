// ParallelFor: splits [0, n) into contiguous ranges run on short-lived
// threads. The CPU references use it for inputs large enough to pay for a
// thread start (tens of microseconds); small inputs run on the caller's thread.
// Thread safety: `fn` is called concurrently on disjoint ranges.
#ifndef CAIRN_KERNELS_PARALLEL_CPU_H_
#define CAIRN_KERNELS_PARALLEL_CPU_H_

#include <cstdint>
#include <functional>

namespace cairn::kernels {

// Threads to use when a caller passes 0: the hardware thread count, or
// CAIRN_CPU_THREADS when set (a worker sharing its machine limits itself).
int DefaultCpuThreads();

// Calls fn(begin, end) over ranges covering [0, n), each at least `grain`
// long except the last, on min(threads, n / grain) threads (threads <= 0:
// DefaultCpuThreads()). Returns when every call has returned.
void ParallelFor(int64_t n, int64_t grain, int threads, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_PARALLEL_CPU_H_
