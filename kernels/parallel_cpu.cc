#include "kernels/parallel_cpu.h"

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <vector>

namespace cairn::kernels {

int DefaultCpuThreads() {
  if (const char* env = std::getenv("CAIRN_CPU_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

void ParallelFor(int64_t n, int64_t grain, int threads, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  if (threads <= 0) threads = DefaultCpuThreads();
  grain = std::max<int64_t>(grain, 1);
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads, n / grain));
  if (parts == 1) {
    fn(0, n);
    return;
  }
  const int64_t step = (n + parts - 1) / parts;
  std::vector<std::thread> pool;
  pool.reserve(parts - 1);
  for (int64_t p = 1; p < parts; ++p) {
    const int64_t b = p * step, e = std::min(n, b + step);
    if (b < e) pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(0, std::min(n, step));
  for (auto& t : pool) t.join();
}

}  // namespace cairn::kernels
