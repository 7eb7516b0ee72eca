#include "train/profile.h"

#include <dlfcn.h>

#include <cctype>
#include <cstdlib>
#include <string>

#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

namespace cairn::train {
namespace {

// ATen's kernel choice, decided as ATen decides it (DispatchStub.cpp, which
// does not export it): ATEN_CPU_CAPABILITY if set, else AVX512 with
// avx512 vl/bw/dq and FMA, AVX2 with avx2 and FMA, else DEFAULT.
std::string CpuCapability() {
  if (const char* forced = std::getenv("ATEN_CPU_CAPABILITY")) {
    std::string f = forced;
    for (char& ch : f) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return f;
  }
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("fma")) {
    return "AVX512";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "AVX2";
  return "DEFAULT";
#else
  return "DEFAULT-nonx86";
#endif
}

std::string BlasCore() {
  if (at::hasMKL()) return "mkl";
  using CoreName = char* (*)();
  auto f = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = f ? f() : nullptr;
  return name ? name : "none";
}

}  // namespace

std::string DeterminismProfile(int threads, const std::string& device) {
  const int n = threads > 0 ? threads : at::get_num_threads();
  return std::string("libtorch=") + TORCH_VERSION + ";cpu=" + CpuCapability() + ";blas=" + BlasCore() +
         ";threads=" + std::to_string(n) + ";device=" + device;
}

void PinCublasWorkspace() { ::setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0); }

std::string CudaDeviceProfile(const std::string& name, const std::string& compute_capability) {
  std::string n = name;
  for (char& c : n) {
    if (c == ';' || c == '=') c = '_';
  }
  return "cuda:" + n + ";cc=" + compute_capability;
}

}  // namespace cairn::train
