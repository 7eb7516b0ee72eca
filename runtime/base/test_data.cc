#include "runtime/base/test_data.h"

#include <cstdlib>
#include <sys/stat.h>

namespace cairn {
namespace {
bool IsDir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
}  // namespace

std::string SourceDir() { return CAIRN_SOURCE_DIR; }

std::string SharedDataDir() {
  if (const char* env = std::getenv("CAIRN_SHARED_DATA"); env != nullptr && *env != '\0') {
    return IsDir(env) ? std::string(env) : std::string();
  }
  std::string fallback = std::string(CAIRN_SOURCE_DIR) + "/../shared/data";
  return IsDir(fallback) ? fallback : std::string();
}

StatusOr<std::string> ReadSharedData(const std::string& relative) {
  std::string dir = SharedDataDir();
  if (dir.empty()) return NotFoundError("shared test data not found (set CAIRN_SHARED_DATA)");
  return ReadFileToString(dir + "/" + relative);
}

}  // namespace cairn
