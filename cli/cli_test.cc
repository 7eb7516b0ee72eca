// Runs the real `cairn` binary as a user would: help on every verb, key
// creation and inspection in a scratch CAIRN_HOME, refusals, and the demo.
#include <sstream>
#include <sys/stat.h>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "runtime/base/temp_dir.h"
#include "runtime/base/subprocess.h"

namespace {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr together
};

// Runs `cairn ARGS` (split on spaces) with optional NAME=VALUE settings.
Result RunCairn(const std::string& args, const std::string& env = "") {
  std::vector<std::string> argv = {"/usr/bin/env"};
  if (!env.empty()) argv.push_back(env);
  argv.push_back(CAIRN_BINARY);
  std::istringstream words(args);
  for (std::string w; words >> w;) argv.push_back(w);
  cairn::testing::Subprocess p(argv, /*merge_stderr=*/true);
  std::string out = p.ReadAll();
  return Result{p.Wait(), out};
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(home_.empty()); }
  cairn::ScopedTempDir tmp_{"cairn-cli"};
  const std::string home_ = tmp_.path();
  const std::string env_ = "CAIRN_HOME=" + home_;
};

TEST_F(CliTest, VersionAndHelpOnEveryVerb) {
  Result v = RunCairn("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.output.find("cairn 0."), std::string::npos) << v.output;
  EXPECT_NE(v.output.find("LibTorch"), std::string::npos);
  EXPECT_NE(v.output.find("(CURVE)"), std::string::npos);
  for (const char* verb : {"", "keys", "keys new", "keys show", "demo"}) {
    Result h = RunCairn(std::string(verb) + " --help");
    EXPECT_EQ(h.exit_code, 0) << verb;
    EXPECT_NE(h.output.find("Usage"), std::string::npos) << verb << ": " << h.output;
  }
  Result none = RunCairn("");
  EXPECT_NE(none.exit_code, 0);
  Result bogus = RunCairn("frobnicate");
  EXPECT_NE(bogus.exit_code, 0);
  EXPECT_NE(bogus.output.find("frobnicate"), std::string::npos) << bogus.output;
}

TEST_F(CliTest, KeysNewShowAndRefuseOverwrite) {
  Result created = RunCairn("keys new --json", env_);
  ASSERT_EQ(created.exit_code, 0) << created.output;
  EXPECT_NE(created.output.find(home_ + "/identity.key"), std::string::npos) << created.output;
  Result shown = RunCairn("keys show", env_);
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  // The id printed at creation is the one shown later.
  size_t at = shown.output.find("id              ");
  ASSERT_NE(at, std::string::npos);
  std::string id = shown.output.substr(at + 16, 32);
  EXPECT_NE(created.output.find(id), std::string::npos);

  Result again = RunCairn("keys new", env_);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already exists"), std::string::npos) << again.output;

  Result other = RunCairn("keys new --out " + home_ + "/second.key", env_);
  EXPECT_EQ(other.exit_code, 0) << other.output;
  Result show_other = RunCairn("keys show " + home_ + "/second.key", env_);
  EXPECT_EQ(show_other.exit_code, 0);
  EXPECT_EQ(show_other.output.find(id), std::string::npos);
}

TEST_F(CliTest, MissingOrUnsafeKeysAreClearErrors) {
  Result missing = RunCairn("keys show", env_);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("cairn keys new"), std::string::npos) << missing.output;
  ASSERT_EQ(RunCairn("keys new", env_).exit_code, 0);
  ASSERT_EQ(chmod((home_ + "/identity.key").c_str(), 0644), 0);
  Result unsafe = RunCairn("keys show", env_);
  EXPECT_EQ(unsafe.exit_code, 1);
  EXPECT_NE(unsafe.output.find("chmod 600"), std::string::npos) << unsafe.output;
}

}  // namespace
