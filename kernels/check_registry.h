// The one registry that runs every kernel op against its reference (after
// ggml's test-backend-ops): each case draws fresh random inputs, poisons its
// outputs, runs the op on one device and compares. kernels_check runs them
// all and prints a table; GPU cases register only where a device is found.
// Thread safety: single-threaded test program.
#ifndef CAIRN_KERNELS_CHECK_REGISTRY_H_
#define CAIRN_KERNELS_CHECK_REGISTRY_H_

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace cairn::kernels::check {

struct Outcome {
  bool ok = true;
  double max_error = 0;  // ||got - ref|| / ||ref|| (0: bit-exact)
  std::string detail;    // why it failed
};

struct Case {
  std::string op;      // "adamw", "quantize", ...
  std::string device;  // "cpu", "cuda"
  std::string shape;   // human-readable sizes
  std::function<Outcome(std::mt19937_64&)> run;
};

using Registry = std::vector<Case>;

void AddCpuCases(Registry& r);
// The torch ops' CUDA dispatch, where this build's LibTorch has CUDA.
void AddTorchCudaCases(Registry& r);
// Registers GPU cases when this build has CUDA and a device is visible;
// returns a line saying what was registered or why none were.
std::string AddGpuCases(Registry& r);

// Helpers shared by the case files.
inline std::vector<float> RandomFloats(std::mt19937_64& rng, int64_t n, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// Compares with tolerance abs + rel * |ref| per element; NaN never passes.
// max_error is the norm-wise relative error ||got - ref|| / ||ref||.
inline Outcome CompareClose(const float* got, const float* want, int64_t n, double abs_tol, double rel_tol,
                            const std::string& what) {
  Outcome o;
  double err2 = 0, ref2 = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(static_cast<double>(got[i]) - want[i]);
    const double bound = abs_tol + rel_tol * std::fabs(static_cast<double>(want[i]));
    if (!(err <= bound)) {
      o.ok = false;
      o.detail = what + "[" + std::to_string(i) + "] = " + std::to_string(got[i]) + ", want " +
                 std::to_string(want[i]);
      return o;
    }
    err2 += err * err;
    ref2 += static_cast<double>(want[i]) * want[i];
  }
  o.max_error = ref2 > 0 ? std::sqrt(err2 / ref2) : std::sqrt(err2);
  return o;
}

template <typename T>
Outcome CompareExact(const T* got, const T* want, int64_t n, const std::string& what) {
  Outcome o;
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(T)) != 0) {
      o.ok = false;
      o.detail = what + "[" + std::to_string(i) + "] differs: " + std::to_string(+got[i]) + " vs " +
                 std::to_string(+want[i]);
      return o;
    }
  }
  return o;
}

}  // namespace cairn::kernels::check

#endif  // CAIRN_KERNELS_CHECK_REGISTRY_H_
