// Small file helpers.
// Thread safety: pure functions over the file system.
#ifndef CAIRN_RUNTIME_BASE_FILES_H_
#define CAIRN_RUNTIME_BASE_FILES_H_

#include <string>

#include "runtime/base/statusor.h"

namespace cairn {

// The whole file; NotFound if it cannot be read.
StatusOr<std::string> ReadFileToString(const std::string& path);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_FILES_H_
