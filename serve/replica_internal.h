// Internal to the replica's files (replica_server.cc, replica_openai.cc,
// replica_kserve.cc): small helpers they share.
// Thread safety: RandomId uses a generator per thread.
#ifndef CAIRN_SERVE_REPLICA_INTERNAL_H_
#define CAIRN_SERVE_REPLICA_INTERNAL_H_

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

namespace cairn::serve::internal {

inline constexpr char kJson[] = "application/json";

inline int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::string RandomId(const char* prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(prefix) + buf;
}

}  // namespace cairn::serve::internal

#endif  // CAIRN_SERVE_REPLICA_INTERNAL_H_
