#include "runtime/base/temp_dir.h"

#include <fstream>
#include <sys/stat.h>

#include <gtest/gtest.h>

namespace cairn {
namespace {

bool Exists(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0;
}

TEST(ScopedTempDir, IsPrivateAndRemovedWithItsContents) {
  std::string path;
  {
    ScopedTempDir dir("cairn-tempdir-test");
    path = dir.path();
    ASSERT_FALSE(path.empty());
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    std::ofstream(path + "/file") << "x";
    ASSERT_EQ(mkdir((path + "/sub").c_str(), 0700), 0);
  }
  EXPECT_FALSE(Exists(path));
}

TEST(ScopedTempDir, KeepLeavesItInPlace) {
  std::string path;
  {
    ScopedTempDir dir("cairn-tempdir-test");
    path = dir.path();
    dir.Keep();
  }
  EXPECT_TRUE(Exists(path));
  rmdir(path.c_str());
}

}  // namespace
}  // namespace cairn
