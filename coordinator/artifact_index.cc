#include "coordinator/artifact_index.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"
#include "runtime/base/files.h"

namespace cairn::coordinator {
namespace {

std::string Hex(const std::string& raw) { return HexEncode(raw); }
// A hash or key written as hex: 32 bytes, or "" where `optional`.
StatusOr<std::string> Hash32(const std::string& hex, bool optional, const std::string& what) {
  if (hex.empty() && optional) return std::string();
  auto r = HexDecode(hex);
  if (!r.ok() || r->size() != 32) return DataLossError(what + " is not 64 hex digits");
  return *r;
}

}  // namespace

StatusOr<std::unique_ptr<ArtifactIndex>> ArtifactIndex::Open(const std::string& path) {
  std::unique_ptr<ArtifactIndex> idx(new ArtifactIndex(path));
  if (!std::filesystem::exists(path)) return idx;
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return DataLossError(path + " is not a JSON object");
  MutexLock lock(&idx->mu_);
  try {
    // Held by name: items() of a temporary (j.value(...)) would dangle in
    // the range-for (restarting after a job registered a model crashed).
    const nlohmann::json checkpoints = j.value("checkpoints", nlohmann::json::object());
    const nlohmann::json models = j.value("models", nlohmann::json::object());
    if (!checkpoints.is_object() || !models.is_object()) return DataLossError(path + ": checkpoints and models must be objects");
    for (const auto& [job, c] : checkpoints.items()) {
      if (!c.is_object() || !c.contains("round") || !c["round"].is_number_unsigned()) {
        return DataLossError(path + ": the checkpoint of job " + job + " has no round");
      }
      CheckpointRef ref{c.at("round").get<uint64_t>(), ""};
      ASSIGN_OR_RETURN(ref.blob, Hash32(c.value("blob", ""), false, path + ": the blob of job " + job + "'s checkpoint"));
      idx->checkpoints_[job] = ref;
    }
    for (const auto& [name, m] : models.items()) {
      ModelRef r;
      r.name = name;
      const std::string where = path + ": model " + name + "'s ";
      ASSIGN_OR_RETURN(r.blob, Hash32(m.value("blob", ""), false, where + "blob"));
      ASSIGN_OR_RETURN(r.author, Hash32(m.value("author", ""), true, where + "author"));
      ASSIGN_OR_RETURN(r.parent, Hash32(m.value("parent", ""), true, where + "parent"));
      r.job_id = m.value("job", "");
      r.license = m.value("license", "");
      for (const auto& d : m.value("datasets", nlohmann::json::array())) {
        std::string id;
        ASSIGN_OR_RETURN(id, Hash32(d.get<std::string>(), false, where + "dataset id"));
        r.datasets.push_back(std::move(id));
      }
      idx->models_[name] = r;
    }
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(path + ": " + e.what());
  }
  return idx;
}

Status ArtifactIndex::Save() const {
  nlohmann::json j{{"checkpoints", nlohmann::json::object()}, {"models", nlohmann::json::object()}};
  for (const auto& [job, c] : checkpoints_) j["checkpoints"][job] = {{"round", c.round}, {"blob", Hex(c.blob)}};
  for (const auto& [name, m] : models_) {
    nlohmann::json ds = nlohmann::json::array();
    for (const auto& d : m.datasets) ds.push_back(Hex(d));
    j["models"][name] = {{"blob", Hex(m.blob)},     {"job", m.job_id},   {"author", Hex(m.author)},
                         {"parent", Hex(m.parent)}, {"license", m.license}, {"datasets", ds}};
  }
  return WriteFileAtomically(path_, j.dump(1));
}

Status ArtifactIndex::SetCheckpoint(const std::string& job_id, CheckpointRef ref) {
  MutexLock lock(&mu_);
  auto& slot = checkpoints_[job_id];
  if (ref.round <= slot.round && !slot.blob.empty()) return OkStatus();  // never move backwards
  slot = std::move(ref);
  return Save();
}

std::optional<CheckpointRef> ArtifactIndex::Checkpoint(const std::string& job_id) const {
  MutexLock lock(&mu_);
  auto it = checkpoints_.find(job_id);
  if (it == checkpoints_.end()) return std::nullopt;
  return it->second;
}

Status ArtifactIndex::AddModel(ModelRef model) {
  MutexLock lock(&mu_);
  models_[model.name] = std::move(model);
  return Save();
}

std::optional<ModelRef> ArtifactIndex::Model(const std::string& name) const {
  MutexLock lock(&mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return std::nullopt;
  return it->second;
}

std::vector<ModelRef> ArtifactIndex::Models() const {
  MutexLock lock(&mu_);
  std::vector<ModelRef> out;
  for (const auto& [n, m] : models_) out.push_back(m);
  return out;
}

}  // namespace cairn::coordinator
