#include "data/builder.h"

#include <zlib.h>

#include <filesystem>

#include "runtime/base/files.h"

namespace cairn::data {
namespace {

// Reads a file, gunzipping it when it ends in .gz.
StatusOr<std::string> ReadMaybeGz(const std::string& path) {
  if (path.size() < 3 || path.compare(path.size() - 3, 3, ".gz") != 0) return ReadFileToString(path);
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return NotFoundError("cannot open " + path);
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, n);
  const bool bad = n < 0;
  gzclose(f);
  if (bad) return InvalidArgumentError(path + ": not a valid gzip file");
  return out;
}

uint32_t BigEndian32(const std::string& s, size_t off) {
  return (uint32_t(uint8_t(s[off])) << 24) | (uint32_t(uint8_t(s[off + 1])) << 16) |
         (uint32_t(uint8_t(s[off + 2])) << 8) | uint32_t(uint8_t(s[off + 3]));
}

// Finds "<prefix>-<kind>" or "<prefix>-<kind>.gz" in dir.
StatusOr<std::string> FindIdx(const std::string& dir, const std::string& name) {
  for (const std::string& candidate : {dir + "/" + name, dir + "/" + name + ".gz"}) {
    if (std::filesystem::exists(candidate)) return candidate;
  }
  return NotFoundError(dir + ": no " + name + " or " + name + ".gz (an idx dataset is a directory of MNIST-style files)");
}

// One split from an images file and a labels file.
Status BuildIdxSplit(const std::string& dir, const std::string& prefix, const std::string& split_name,
                     BuiltDataset* out) {
  ASSIGN_OR_RETURN(std::string images_path, FindIdx(dir, prefix + "-images-idx3-ubyte"));
  ASSIGN_OR_RETURN(std::string labels_path, FindIdx(dir, prefix + "-labels-idx1-ubyte"));
  ASSIGN_OR_RETURN(std::string images, ReadMaybeGz(images_path));
  ASSIGN_OR_RETURN(std::string labels, ReadMaybeGz(labels_path));
  if (images.size() < 16 || BigEndian32(images, 0) != 0x00000803) {
    return InvalidArgumentError(images_path + ": not an IDX3 ubyte file (magic 0x00000803)");
  }
  if (labels.size() < 8 || BigEndian32(labels, 0) != 0x00000801) {
    return InvalidArgumentError(labels_path + ": not an IDX1 ubyte file (magic 0x00000801)");
  }
  const uint64_t n = BigEndian32(images, 4), rows = BigEndian32(images, 8), cols = BigEndian32(images, 12);
  if (BigEndian32(labels, 4) != n) return InvalidArgumentError(labels_path + ": label count differs from " + images_path);
  if (rows == 0 || cols == 0 || rows * cols > 1 << 16 || images.size() != 16 + n * rows * cols || labels.size() != 8 + n) {
    return InvalidArgumentError(images_path + ": sizes in the header do not match the file");
  }
  Manifest& m = out->manifest;
  if (m.rows == 0) {
    m.rows = static_cast<uint32_t>(rows);
    m.cols = static_cast<uint32_t>(cols);
    m.record_bytes = 1 + rows * cols;
  } else if (m.rows != rows || m.cols != cols) {
    return InvalidArgumentError(images_path + ": image size differs from the other split");
  }
  std::string records;
  records.reserve(n * m.record_bytes);
  for (uint64_t i = 0; i < n; ++i) {
    records.push_back(labels[8 + i]);
    records.append(images, 16 + i * rows * cols, rows * cols);
  }
  Split s;
  s.name = split_name;
  AppendChunks(records, m.record_bytes, &s, &out->chunks);
  m.splits.push_back(std::move(s));
  return OkStatus();
}

}  // namespace

void AppendChunks(const std::string& records, uint64_t record_bytes, Split* split, std::vector<std::string>* out) {
  const uint64_t per_chunk = kChunkBytes / record_bytes * record_bytes;
  for (uint64_t off = 0; off < records.size(); off += per_chunk) {
    const uint64_t len = std::min<uint64_t>(per_chunk, records.size() - off);
    ChunkRef c;
    c.bytes = len;
    c.first_sample = split->samples;
    c.samples = len / record_bytes;
    c.hash = Sha256(std::string_view(records).substr(off, len));
    split->samples += c.samples;
    split->chunks.push_back(c);
    out->push_back(records.substr(off, len));
  }
}

StatusOr<BuiltDataset> BuildDataset(const std::string& path, Format format) {
  BuiltDataset out;
  out.manifest.format = format;
  if (format == Format::kIdx) {
    if (!std::filesystem::is_directory(path)) return InvalidArgumentError(path + ": an idx dataset is a directory");
    RETURN_IF_ERROR(BuildIdxSplit(path, "train", "train", &out));
    RETURN_IF_ERROR(BuildIdxSplit(path, "t10k", "test", &out));
    return out;
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadMaybeGz(path));
  if (bytes.empty()) return InvalidArgumentError(path + ": is empty");
  out.manifest.record_bytes = format == Format::kTokensU16 ? 2 : 1;
  if (bytes.size() % out.manifest.record_bytes != 0) {
    return InvalidArgumentError(path + ": a tokens-u16 file must hold an even number of bytes");
  }
  Split s;
  s.name = "all";
  AppendChunks(bytes, out.manifest.record_bytes, &s, &out.chunks);
  out.manifest.splits.push_back(std::move(s));
  return out;
}

}  // namespace cairn::data
