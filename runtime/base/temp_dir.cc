#include "runtime/base/temp_dir.h"

#include <cstdlib>
#include <filesystem>

namespace cairn {

ScopedTempDir::ScopedTempDir(const std::string& prefix) {
  std::string pattern = "/tmp/" + prefix + "-" + std::string(6, 'X');  // mkdtemp's template
  if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

ScopedTempDir::~ScopedTempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace cairn
