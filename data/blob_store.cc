#include "data/blob_store.h"

#include <filesystem>

#include "runtime/base/encoding.h"
#include "runtime/base/files.h"

namespace cairn::data {

StatusOr<BlobStore> BlobStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError("cannot create blob store " + dir + ": " + ec.message());
  return BlobStore(dir);
}

std::string BlobStore::PathOf(const Sha256Digest& hash) const {
  const std::string hex = HexEncode(DigestView(hash));
  return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
}

bool BlobStore::Has(const Sha256Digest& hash) const { return std::filesystem::exists(PathOf(hash)); }

StatusOr<Sha256Digest> BlobStore::Put(std::string_view bytes) {
  const Sha256Digest h = Sha256(bytes);
  RETURN_IF_ERROR(PutExpecting(h, bytes));
  return h;
}

Status BlobStore::PutExpecting(const Sha256Digest& want, std::string_view bytes) {
  if (Sha256(bytes) != want) {
    return InvalidArgumentError("blob does not hash to " + HexEncode(DigestView(want)));
  }
  const std::string path = PathOf(want);
  if (std::filesystem::exists(path)) return OkStatus();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  return WriteFileAtomically(path, std::string(bytes));
}

StatusOr<std::string> BlobStore::Get(const Sha256Digest& hash) const {
  const std::string path = PathOf(hash);
  if (!std::filesystem::exists(path)) return NotFoundError("no blob " + HexEncode(DigestView(hash)));
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (Sha256(bytes) != hash) return DataLossError("blob " + path + " no longer matches its hash");
  return bytes;
}

}  // namespace cairn::data
