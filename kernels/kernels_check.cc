// kernels_check: runs every case of the kernel registry (check_registry.h)
// and prints one line per case and a summary table last. Exit status 1 if any
// case fails. Flags: --seed N (default: from the clock, printed so a failure
// can be replayed), --filter SUBSTRING (op/device/shape).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "kernels/check_registry.h"

int main(int argc, char** argv) {
  using namespace cairn::kernels::check;
  uint64_t seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  std::string filter;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--filter" && i + 1 < argc) {
      filter = argv[++i];
    } else {
      std::fprintf(stderr, "usage: kernels_check [--seed N] [--filter SUBSTRING]\n");
      return 2;
    }
  }
  Registry registry;
  AddCpuCases(registry);
  AddTorchCudaCases(registry);
  const std::string gpu_note = AddGpuCases(registry);
  std::printf("kernels_check: seed %llu; %s\n", static_cast<unsigned long long>(seed), gpu_note.c_str());

  struct Tally { int pass = 0, fail = 0; double worst = 0; double seconds = 0; };
  std::map<std::string, Tally> tally;
  int failures = 0;
  for (size_t i = 0; i < registry.size(); ++i) {
    const Case& c = registry[i];
    const std::string name = c.op + "/" + c.device + " " + c.shape;
    if (!filter.empty() && name.find(filter) == std::string::npos) continue;
    std::mt19937_64 rng(seed + i);  // fresh inputs per case, replayable from the seed
    const auto t0 = std::chrono::steady_clock::now();
    const Outcome o = c.run(rng);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Tally& t = tally[c.op + "/" + c.device];
    t.seconds += s;
    if (o.ok) {
      ++t.pass;
      t.worst = std::max(t.worst, o.max_error);
      std::printf("  ok    %-44s rel err %.2e  %.2fs\n", name.c_str(), o.max_error, s);
    } else {
      ++t.fail;
      ++failures;
      std::printf("  FAIL  %-44s %s\n", name.c_str(), o.detail.c_str());
    }
  }
  std::printf("\n%-18s %6s %6s %14s %9s\n", "op/device", "pass", "fail", "rel err", "seconds");
  for (const auto& [k, t] : tally) {
    std::printf("%-18s %6d %6d %14.2e %9.2f\n", k.c_str(), t.pass, t.fail, t.worst, t.seconds);
  }
  std::printf("%s\n", failures ? "kernels_check: FAILED" : "kernels_check: all cases passed");
  return failures ? 1 : 0;
}
