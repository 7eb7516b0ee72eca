#include "data/dataset_registry.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "ledger/entry.h"
#include "runtime/base/encoding.h"
#include "runtime/base/files.h"

namespace cairn::data {
namespace {

StatusOr<Sha256Digest> DigestFromHex(const std::string& hex) {
  auto raw = HexDecode(hex);
  if (!raw.ok() || raw->size() != 32) return InvalidArgumentError("not a 64-digit hex hash: " + hex);
  Sha256Digest d;
  std::copy(raw->begin(), raw->end(), d.begin());
  return d;
}

}  // namespace

StatusOr<std::string> SignDatasetRegistration(const Ed25519PrivateKey& contributor, const Manifest& m,
                                              int64_t timestamp_unix_millis) {
  const Sha256Digest id = DatasetId(m);
  return ledger::MakeEntry(contributor, timestamp_unix_millis, [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto d = b.initDatasetRegistered();
    d.setDatasetId(ledger::AsData(std::string(DigestView(id))));
    d.setName(m.name);
    d.setFormat(FormatName(m.format));
    d.setSizeBytes(m.TotalBytes());
    d.setChunks(static_cast<uint32_t>(m.TotalChunks()));
    d.setSamples(m.TotalSamples());
    d.setLicense(m.license);
    d.setPricePer1kSamplesMicros(m.price_per_1k_micros);
  });
}

StatusOr<std::unique_ptr<DatasetRegistry>> DatasetRegistry::Open(const std::string& dir, ledger::Log* log) {
  ASSIGN_OR_RETURN(BlobStore blobs, BlobStore::Open(dir + "/blobs"));
  std::unique_ptr<DatasetRegistry> r(new DatasetRegistry(std::move(blobs), dir + "/datasets.json", log));
  if (std::filesystem::exists(r->index_path_)) {
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(r->index_path_));
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return DataLossError(r->index_path_ + " is not a JSON array");
    MutexLock lock(&r->mu_);
    for (const auto& e : j) {
      RegisteredDataset d;
      d.name = e.value("name", "");
      ASSIGN_OR_RETURN(d.id, DigestFromHex(e.value("id", "")));
      ASSIGN_OR_RETURN(d.manifest_hash, DigestFromHex(e.value("manifest", "")));
      auto contributor = HexDecode(e.value("contributor", ""));
      if (!contributor.ok()) return DataLossError(r->index_path_ + ": bad contributor");
      d.contributor = *contributor;
      d.ledger_index = e.value("ledger_index", uint64_t{0});
      r->by_name_[d.name] = d;
    }
  }
  return r;
}

Status DatasetRegistry::SaveIndex() const {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [name, d] : by_name_) {
    j.push_back({{"name", d.name}, {"id", HexEncode(DigestView(d.id))},
                 {"manifest", HexEncode(DigestView(d.manifest_hash))}, {"contributor", HexEncode(d.contributor)},
                 {"ledger_index", d.ledger_index}});
  }
  return WriteFileAtomically(index_path_, j.dump(1));
}

StatusOr<RegisteredDataset> DatasetRegistry::Register(const Manifest& manifest, const std::string& entry) {
  ASSIGN_OR_RETURN(ledger::EntryHeader header, ledger::ValidateEntry(entry));
  if (header.type != ledger::schema::LedgerEntry::Body::DATASET_REGISTERED) {
    return InvalidArgumentError("entry is a " + ledger::EntryTypeName(header.type) + ", not a datasetRegistered");
  }
  ASSIGN_OR_RETURN(ledger::EntryReader reader, ledger::EntryReader::Open(entry));
  auto body = reader.root().getBody().getDatasetRegistered();
  const Sha256Digest id = DatasetId(manifest);
  if (ledger::FromData(body.getDatasetId()) != std::string(DigestView(id))) {
    return InvalidArgumentError("entry.datasetId is not the manifest's Merkle root");
  }
  if (body.getName().cStr() != manifest.name) return InvalidArgumentError("entry.name differs from the manifest's");
  if (body.getFormat().cStr() != std::string(FormatName(manifest.format))) {
    return InvalidArgumentError("entry.format differs from the manifest's");
  }
  if (body.getLicense().cStr() != manifest.license) return InvalidArgumentError("entry.license differs from the manifest's");
  if (body.getSizeBytes() != manifest.TotalBytes() || body.getChunks() != manifest.TotalChunks() ||
      body.getSamples() != manifest.TotalSamples()) {
    return InvalidArgumentError("entry sizeBytes/chunks/samples differ from the manifest's");
  }
  if (body.getPricePer1kSamplesMicros() != manifest.price_per_1k_micros) {
    return InvalidArgumentError("entry.pricePer1kSamplesMicros differs from the manifest's");
  }
  if (manifest.name.empty() || manifest.name.size() > 63) return InvalidArgumentError("dataset name must be 1-63 characters");
  {
    MutexLock lock(&mu_);
    auto it = by_name_.find(manifest.name);
    if (it != by_name_.end()) {
      if (it->second.id == id) return it->second;
      return AlreadyExistsError("dataset name '" + manifest.name + "' is taken by other data (id " +
                                HexEncode(DigestView(it->second.id)).substr(0, 16) + "...)");
    }
  }
  for (const auto& s : manifest.splits) {
    for (size_t i = 0; i < s.chunks.size(); ++i) {
      if (!blobs_.Has(s.chunks[i].hash)) {
        return FailedPreconditionError("chunk " + std::to_string(i) + " of split '" + s.name + "' (" +
                                       HexEncode(DigestView(s.chunks[i].hash)) + ") has not been uploaded");
      }
    }
  }
  ASSIGN_OR_RETURN(Sha256Digest manifest_hash, blobs_.Put(ManifestToJson(manifest)));
  ASSIGN_OR_RETURN(uint64_t index, log_->Append(entry));
  RegisteredDataset d{manifest.name, id, manifest_hash, header.actor, index};
  MutexLock lock(&mu_);
  by_name_[d.name] = d;
  RETURN_IF_ERROR(SaveIndex());
  return d;
}

StatusOr<RegisteredDataset> DatasetRegistry::Find(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = by_name_.find(key);
  if (it != by_name_.end()) return it->second;
  for (const auto& [name, d] : by_name_) {
    if (HexEncode(DigestView(d.id)) == key) return d;
  }
  return NotFoundError("no dataset named '" + key + "' (see `cairn dataset list`)");
}

StatusOr<Manifest> DatasetRegistry::LoadManifest(const std::string& key) const {
  ASSIGN_OR_RETURN(RegisteredDataset d, Find(key));
  ASSIGN_OR_RETURN(std::string text, blobs_.Get(d.manifest_hash));
  return ParseManifest(text);
}

std::vector<RegisteredDataset> DatasetRegistry::List() const {
  MutexLock lock(&mu_);
  std::vector<RegisteredDataset> out;
  for (const auto& [name, d] : by_name_) out.push_back(d);
  return out;
}

}  // namespace cairn::data
