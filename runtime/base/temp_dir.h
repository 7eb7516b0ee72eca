// ScopedTempDir: a fresh private (0700) directory under /tmp, removed with
// everything in it when the object is destroyed, unless Keep() was called.
// Thread safety: one owner; path() may be read from any thread.
#ifndef CAIRN_RUNTIME_BASE_TEMP_DIR_H_
#define CAIRN_RUNTIME_BASE_TEMP_DIR_H_

#include <string>

namespace cairn {

class ScopedTempDir {
 public:
  // `prefix` names the directory: /tmp/<prefix>-<random>. path() is empty if
  // it could not be created.
  explicit ScopedTempDir(const std::string& prefix = "cairn");
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // Leaves the directory in place on destruction.
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_TEMP_DIR_H_
