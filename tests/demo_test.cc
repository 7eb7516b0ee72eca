// `cairn demo`, the README's first command, run as a user runs it: every
// step reaches its end, the ledger verifies and the payouts table prints,
// and no process it started is left behind.
#include <filesystem>

#include <gtest/gtest.h>

#include "runtime/base/subprocess.h"
#include "runtime/base/temp_dir.h"

namespace cairn {
namespace {

TEST(Demo, RunsEndToEnd) {
  for (const char* need : {"/usr/share/datasets/fashion-mnist", "/usr/share/games/fortunes/fortunes"}) {
    if (!std::filesystem::exists(need)) GTEST_SKIP() << need << " is not installed (scripts/setup installs it)";
  }
  ScopedTempDir home("cairn-demo-test");
  Subprocess demo({"/usr/bin/env", "CAIRN_HOME=" + home.path(), CAIRN_BINARY, "demo"}, /*merge_stderr=*/true);
  const std::string out = demo.ReadAll();
  ASSERT_EQ(demo.Wait(), 0) << out;
  for (const char* want : {"[9/9]", "of 12 right", "usage: {\"completion_tokens\":60", "streamed: ", "ok: ",
                           "every signature, hash and balance checks out", "FROM LEDGER ENTRIES", "serving", "royalty",
                           "cairn demo: done"}) {
    EXPECT_NE(out.find(want), std::string::npos) << "missing '" << want << "' in:\n" << out;
  }
  // Nothing it started survives it (its processes: this binary, in a
  // cairn-demo- directory; another checkout's demo may be running beside it).
  Subprocess ps({"/bin/sh", "-c", std::string("ps -eo args | grep -F '") + CAIRN_BINARY + " ' | grep -c '[c]airn-demo-' || true"});
  EXPECT_EQ(ps.ReadAll(), "0\n");
}

}  // namespace
}  // namespace cairn
