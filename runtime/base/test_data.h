// Locating the shared test data (../shared/data beside the checkout).
// Tests read it through CAIRN_SHARED_DATA, defaulting to ../shared/data
// relative to the repository root, and skip with a clear message where it is
// absent. Test-only; not linked into the cairn binary.
#ifndef CAIRN_RUNTIME_BASE_TEST_DATA_H_
#define CAIRN_RUNTIME_BASE_TEST_DATA_H_

#include <string>

#include "runtime/base/files.h"
#include "runtime/base/statusor.h"

namespace cairn {

// The repository root this test binary was built from.
std::string SourceDir();
// The directory, or "" if neither CAIRN_SHARED_DATA nor the default exists.
std::string SharedDataDir();
// The whole file `relative` under SharedDataDir(); NotFound if missing.
StatusOr<std::string> ReadSharedData(const std::string& relative);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_TEST_DATA_H_
