// Logging for cairn: spdlog underneath, one process-wide logger writing
// "time level [component] message" to stderr.
//
// Use the CAIRN_LOG_* macros with fmt-style arguments:
//   CAIRN_LOG_INFO("worker {} joined with {} devices", id, n);
// Thread safety: the logger is thread-safe; InitLogging should be called once
// from main() before other threads start (calling it again just resets level).
#ifndef CAIRN_RUNTIME_BASE_LOG_H_
#define CAIRN_RUNTIME_BASE_LOG_H_

#include <string_view>

#include <spdlog/spdlog.h>

#include "runtime/base/status.h"

namespace cairn {

// level: "trace", "debug", "info", "warn", "error", "off". An unknown name is
// an InvalidArgument error and leaves the level unchanged. The environment
// variable CAIRN_LOG_LEVEL, when set, is applied by InitLoggingFromEnv.
Status InitLogging(std::string_view level);
void InitLoggingFromEnv(std::string_view default_level);

}  // namespace cairn

#define CAIRN_LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define CAIRN_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define CAIRN_LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define CAIRN_LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define CAIRN_LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)

#endif  // CAIRN_RUNTIME_BASE_LOG_H_
