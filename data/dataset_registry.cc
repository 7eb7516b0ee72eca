#include "data/dataset_registry.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "ledger/entry.h"
#include "runtime/base/files.h"
#include "runtime/base/log.h"
#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"

namespace cairn::data {

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
    d.setManifestHash(ledger::AsData(Sha256Bytes(ManifestToJson(m))));
  });
}

StatusOr<std::unique_ptr<DatasetRegistry>> DatasetRegistry::Open(const std::string& dir) {
  ASSIGN_OR_RETURN(BlobStore blobs, BlobStore::Open(dir + "/blobs"));
  std::unique_ptr<DatasetRegistry> r(new DatasetRegistry(std::move(blobs)));
  const std::string legacy = dir + "/datasets.json";
  if (std::filesystem::exists(legacy)) {
    auto text = ReadFileToString(legacy);
    nlohmann::json j = text.ok() ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (!j.is_array()) {
      CAIRN_LOG_WARN("{} is not the JSON array an older coordinator wrote; ignoring it", legacy);
    } else {
      for (const auto& e : j) {
        if (!e.is_object()) continue;
        auto id = DigestFromHex(e.value("id", ""), "datasets.json id");
        auto manifest = DigestFromHex(e.value("manifest", ""), "datasets.json manifest");
        if (id.ok() && manifest.ok()) r->legacy_manifests_[std::string(DigestView(*id))] = *manifest;
      }
    }
  }
  return r;
}

void DatasetRegistry::ApplyCommitted(uint64_t index, std::string_view entry) {
  auto reader = ledger::EntryReader::Open(entry);
  if (!reader.ok()) return;
  auto body = reader->root().getBody();
  if (body.which() != ledger::schema::LedgerEntry::Body::DATASET_REGISTERED) return;
  auto d = body.getDatasetRegistered();
  auto id = DigestFromBytes(ledger::FromData(d.getDatasetId()));
  auto manifest = DigestFromBytes(ledger::FromData(d.getManifestHash()));
  if (id.ok() && !manifest.ok()) {  // registered before entries named manifests: an older index may know it
    auto legacy = legacy_manifests_.find(std::string(DigestView(*id)));
    if (legacy != legacy_manifests_.end()) manifest = legacy->second;
  }
  if (!id.ok() || !manifest.ok()) return;  // not indexable
  RegisteredDataset r{d.getName().cStr(), *id, *manifest, ledger::FromData(reader->root().getActor()), index};
  MutexLock lock(&mu_);
  by_name_.emplace(r.name, std::move(r));
}

Status DatasetRegistry::Rebuild(const ledger::LedgerStore& store) {
  ASSIGN_OR_RETURN(uint64_t size, store.Size());
  for (uint64_t first = 0; first < size; first += 4096) {
    ASSIGN_OR_RETURN(auto entries, store.Entries(first, 4096));
    for (size_t i = 0; i < entries.size(); ++i) ApplyCommitted(first + i, entries[i]);
  }
  return OkStatus();
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
  const std::string manifest_json = ManifestToJson(manifest);
  if (ledger::FromData(body.getManifestHash()) != Sha256Bytes(manifest_json)) {
    return InvalidArgumentError("entry.manifestHash is not the SHA-256 of the manifest");
  }
  if (log_ == nullptr) return FailedPreconditionError("the registry has no ledger to register in");
  MutexLock registering(&register_mu_);
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
  ASSIGN_OR_RETURN(Sha256Digest manifest_hash, blobs_.Put(manifest_json));
  ASSIGN_OR_RETURN(uint64_t index, log_->Append(entry));
  ApplyCommitted(index, entry);  // durable now; a no-op if the log's on_commit already indexed it
  return RegisteredDataset{manifest.name, id, manifest_hash, header.actor, index};
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
