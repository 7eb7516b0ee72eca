// Turns files on disk into a dataset's chunks and manifest (`cairn dataset
// add`). Formats:
//   idx         a directory holding MNIST-style IDX files, plain or .gz:
//               train-images-idx3-ubyte + train-labels-idx1-ubyte -> split
//               "train", t10k-* -> split "test". Each sample is stored as
//               one record: label byte, then rows*cols pixel bytes.
//   text        one file of bytes -> split "all" (a sample is a byte).
//   tokens-u16  one file of little-endian u16 tokens -> split "all".
// Chunks hold whole records, at most kChunkBytes each.
// Thread safety: pure functions.
#ifndef CAIRN_DATA_BUILDER_H_
#define CAIRN_DATA_BUILDER_H_

#include <string>
#include <vector>

#include "data/manifest.h"

namespace cairn::data {

struct BuiltDataset {
  Manifest manifest;                // name, license and price left for the caller
  std::vector<std::string> chunks;  // bytes, in manifest order
};

// InvalidArgument / NotFound naming the file and what is wrong with it.
StatusOr<BuiltDataset> BuildDataset(const std::string& path, Format format);

// Cuts `records` (a whole number of record_bytes-sized records) into chunks
// appended to `split` and `out`.
void AppendChunks(const std::string& records, uint64_t record_bytes, Split* split, std::vector<std::string>* out);

}  // namespace cairn::data

#endif  // CAIRN_DATA_BUILDER_H_
