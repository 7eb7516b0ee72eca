#include "data/manifest.h"

#include <nlohmann/json.hpp>

#include "ledger/merkle.h"
#include "runtime/base/encoding.h"

namespace cairn::data {

const char* FormatName(Format f) {
  switch (f) {
    case Format::kIdx: return "idx";
    case Format::kText: return "text";
    case Format::kTokensU16: return "tokens-u16";
  }
  return "?";
}

StatusOr<Format> ParseFormat(const std::string& name) {
  if (name == "idx") return Format::kIdx;
  if (name == "text") return Format::kText;
  if (name == "tokens-u16") return Format::kTokensU16;
  return InvalidArgumentError("unknown dataset format '" + name + "' (want idx, text or tokens-u16)");
}

uint64_t Manifest::TotalBytes() const {
  uint64_t n = 0;
  for (const auto& s : splits) for (const auto& c : s.chunks) n += c.bytes;
  return n;
}
uint64_t Manifest::TotalSamples() const {
  uint64_t n = 0;
  for (const auto& s : splits) n += s.samples;
  return n;
}
size_t Manifest::TotalChunks() const {
  size_t n = 0;
  for (const auto& s : splits) n += s.chunks.size();
  return n;
}
const Split* Manifest::FindSplit(const std::string& name) const {
  for (const auto& s : splits) if (s.name == name) return &s;
  return nullptr;
}

Sha256Digest DatasetId(const Manifest& m) {
  std::vector<ledger::Hash> leaves;
  for (const auto& s : m.splits) {
    for (const auto& c : s.chunks) leaves.push_back(ledger::LeafHash(DigestView(c.hash)));
  }
  return ledger::RootOfLeaves(leaves);
}

std::string ManifestToJson(const Manifest& m) {
  nlohmann::json j;
  j["version"] = 1;
  j["name"] = m.name;
  j["format"] = FormatName(m.format);
  j["license"] = m.license;
  j["price_per_1k_micros"] = m.price_per_1k_micros;
  j["record_bytes"] = m.record_bytes;
  j["rows"] = m.rows;
  j["cols"] = m.cols;
  j["dataset_id"] = HexEncode(DigestView(DatasetId(m)));
  j["splits"] = nlohmann::json::array();
  for (const auto& s : m.splits) {
    nlohmann::json js{{"name", s.name}, {"samples", s.samples}, {"chunks", nlohmann::json::array()}};
    for (const auto& c : s.chunks) {
      js["chunks"].push_back({{"hash", HexEncode(DigestView(c.hash))}, {"bytes", c.bytes},
                              {"first_sample", c.first_sample}, {"samples", c.samples}});
    }
    j["splits"].push_back(std::move(js));
  }
  return j.dump(1);
}

namespace {

template <typename T>
Status Get(const nlohmann::json& j, const char* key, const std::string& where, T* out) {
  if (!j.is_object() || !j.contains(key)) return InvalidArgumentError("manifest: " + where + key + " is missing");
  try {
    *out = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    return InvalidArgumentError("manifest: " + where + key + " has the wrong type");
  }
  return OkStatus();
}

}  // namespace

StatusOr<Manifest> ParseManifest(const std::string& text) {
  if (text.size() > kMaxManifestBytes) return InvalidArgumentError("manifest: larger than 8 MiB");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgumentError("manifest: not a JSON object");
  Manifest m;
  int version = 0;
  std::string format, id_hex;
  RETURN_IF_ERROR(Get(j, "version", "", &version));
  if (version != 1) return InvalidArgumentError("manifest: version " + std::to_string(version) + " is not supported");
  RETURN_IF_ERROR(Get(j, "name", "", &m.name));
  RETURN_IF_ERROR(Get(j, "format", "", &format));
  ASSIGN_OR_RETURN(m.format, ParseFormat(format));
  RETURN_IF_ERROR(Get(j, "license", "", &m.license));
  RETURN_IF_ERROR(Get(j, "price_per_1k_micros", "", &m.price_per_1k_micros));
  RETURN_IF_ERROR(Get(j, "record_bytes", "", &m.record_bytes));
  RETURN_IF_ERROR(Get(j, "rows", "", &m.rows));
  RETURN_IF_ERROR(Get(j, "cols", "", &m.cols));
  RETURN_IF_ERROR(Get(j, "dataset_id", "", &id_hex));
  if (m.record_bytes == 0 || m.record_bytes > kChunkBytes) return InvalidArgumentError("manifest: record_bytes out of range");
  if (!j.contains("splits") || !j["splits"].is_array() || j["splits"].empty()) {
    return InvalidArgumentError("manifest: splits must be a non-empty array");
  }
  for (size_t si = 0; si < j["splits"].size(); ++si) {
    const auto& js = j["splits"][si];
    const std::string where = "splits[" + std::to_string(si) + "].";
    Split s;
    RETURN_IF_ERROR(Get(js, "name", where, &s.name));
    RETURN_IF_ERROR(Get(js, "samples", where, &s.samples));
    if (!js.contains("chunks") || !js["chunks"].is_array()) return InvalidArgumentError("manifest: " + where + "chunks must be an array");
    uint64_t next = 0;
    for (size_t ci = 0; ci < js["chunks"].size(); ++ci) {
      const auto& jc = js["chunks"][ci];
      const std::string cw = where + "chunks[" + std::to_string(ci) + "].";
      ChunkRef c;
      std::string hex;
      RETURN_IF_ERROR(Get(jc, "hash", cw, &hex));
      auto hash = DigestFromHex(hex, "manifest: " + cw + "hash");
      if (!hash.ok()) return InvalidArgumentError("manifest: " + cw + "hash is not 64 hex digits");
      c.hash = *hash;
      RETURN_IF_ERROR(Get(jc, "bytes", cw, &c.bytes));
      RETURN_IF_ERROR(Get(jc, "first_sample", cw, &c.first_sample));
      RETURN_IF_ERROR(Get(jc, "samples", cw, &c.samples));
      if (c.bytes == 0 || c.bytes > kChunkBytes) return InvalidArgumentError("manifest: " + cw + "bytes out of range");
      if (c.samples * m.record_bytes != c.bytes) {
        return InvalidArgumentError("manifest: " + cw + "bytes is not samples * record_bytes");
      }
      if (c.first_sample != next) return InvalidArgumentError("manifest: " + cw + "first_sample does not follow the previous chunk");
      next += c.samples;
      s.chunks.push_back(c);
    }
    if (next != s.samples) return InvalidArgumentError("manifest: " + where + "samples does not match its chunks");
    m.splits.push_back(std::move(s));
  }
  if (HexEncode(DigestView(DatasetId(m))) != id_hex) {
    return InvalidArgumentError("manifest: dataset_id does not match the Merkle root of its chunk hashes");
  }
  return m;
}

}  // namespace cairn::data
