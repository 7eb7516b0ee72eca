#include "runtime/base/log.h"

#include <cstdlib>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cairn {

Status InitLogging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidArgumentError("unknown log level '" + std::string(level) +
                                "' (want trace, debug, info, warn, error or off)");
  }
  static bool initialised = false;
  if (!initialised) {
    auto logger = spdlog::stderr_color_mt("cairn");
    spdlog::set_default_logger(logger);
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    initialised = true;
  }
  spdlog::set_level(lvl);
  return OkStatus();
}

void InitLoggingFromEnv(std::string_view default_level) {
  const char* env = std::getenv("CAIRN_LOG_LEVEL");
  if (env != nullptr && InitLogging(env).ok()) return;
  (void)InitLogging(default_level);
}

}  // namespace cairn
