#include "worker/replay_store.h"

#include <filesystem>
#include <system_error>

#include "runtime/base/files.h"

namespace cairn::worker {
namespace fs = std::filesystem;

namespace {

// Job ids are "<name>-<hex>" (lowercase, digits, '-'); anything else is
// refused rather than turned into a path.
bool SafeName(const std::string& s) {
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

}  // namespace

StatusOr<ReplayStore> ReplayStore::Open(const std::string& dir, int64_t max_age_s) {
  RETURN_IF_ERROR(MakeDirs(dir));
  ReplayStore s;
  s.dir_ = dir;
  std::error_code ec;
  const auto now = fs::file_time_type::clock::now();
  for (const auto& job : fs::directory_iterator(dir, ec)) {
    auto age = std::chrono::duration_cast<std::chrono::seconds>(now - fs::last_write_time(job.path(), ec)).count();
    if (!ec && age > max_age_s) fs::remove_all(job.path(), ec);
  }
  return s;
}

std::string ReplayStore::RoundPath(const std::string& job, uint32_t attempt, uint64_t round) const {
  return dir_ + "/" + job + "/" + std::to_string(attempt) + "/" + std::to_string(round);
}

Status ReplayStore::Keep(const std::string& job, uint32_t attempt, uint64_t round, const std::string& state,
                         const std::string& steps, uint64_t keep) {
  if (!SafeName(job)) return InvalidArgumentError("replay store: job id '" + job + "' is not a safe file name");
  const std::string base = RoundPath(job, attempt, round);
  RETURN_IF_ERROR(MakeDirs(dir_ + "/" + job + "/" + std::to_string(attempt)));
  RETURN_IF_ERROR(WriteFileAtomically(base + ".steps", steps));
  RETURN_IF_ERROR(WriteFileAtomically(base + ".state", state));
  if (round > keep) {
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(dir_ + "/" + job + "/" + std::to_string(attempt), ec)) {
      const std::string stem = f.path().stem().string();
      if (stem.empty() || stem.find_first_not_of("0123456789") != std::string::npos) continue;
      if (std::stoull(stem) + keep < round) fs::remove(f.path(), ec);
    }
  }
  return OkStatus();
}

StatusOr<ReplayStore::Disclosure> ReplayStore::Find(const std::string& job, uint32_t attempt, uint64_t round,
                                                    const Sha256Digest& state_hash, const Sha256Digest& steps_hash) const {
  if (!SafeName(job)) return InvalidArgumentError("replay store: job id '" + job + "' is not a safe file name");
  const std::string base = RoundPath(job, attempt, round);
  auto state = ReadFileToString(base + ".state");
  auto steps = ReadFileToString(base + ".steps");
  if (!state.ok() || !steps.ok()) {
    return NotFoundError("round " + std::to_string(round) + " of attempt " + std::to_string(attempt) + " of " + job +
                         " is no longer kept here");
  }
  if (Sha256(*state) != state_hash || Sha256(*steps) != steps_hash) {
    return DataLossError("the state kept for round " + std::to_string(round) + " of " + job +
                         " is not what its receipt committed to");
  }
  return Disclosure{std::move(*state), std::move(*steps)};
}

}  // namespace cairn::worker
