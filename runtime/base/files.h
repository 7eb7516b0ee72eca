// Small file helpers.
// Thread safety: pure functions over the file system.
#ifndef CAIRN_RUNTIME_BASE_FILES_H_
#define CAIRN_RUNTIME_BASE_FILES_H_

#include <string>

#include "runtime/base/statusor.h"

namespace cairn {

// The whole file; NotFound if it cannot be read.
StatusOr<std::string> ReadFileToString(const std::string& path);
// Writes `contents` to path.tmp, fsyncs it and renames it over `path`, so
// readers see the old file or the new one, never a torn one.
Status WriteFileAtomically(const std::string& path, const std::string& contents);

// Creates `dir` and its missing parents (mode 0700). OK if it exists.
Status MakeDirs(const std::string& dir);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_FILES_H_
