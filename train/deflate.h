// Lossless coding of the int8 pseudo-gradient buffers DiLoCo exchanges.
// Blockwise-absmax int8 values of a pseudo-gradient cluster near zero, so
// DEFLATE (zlib, RFC 1950) shrinks them further at no cost in accuracy.
// Inflate is the receiving side of a network-facing format: it refuses a
// stream that is corrupt, truncated, followed by extra bytes, or that does
// not inflate to exactly the expected size (no decompression bombs).
// Thread safety: pure functions.
#ifndef CAIRN_TRAIN_DEFLATE_H_
#define CAIRN_TRAIN_DEFLATE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"

namespace cairn::train {

StatusOr<std::string> Deflate(std::string_view raw, int level = 1);
StatusOr<std::string> Inflate(std::string_view stream, size_t expected_size);
// The same, into `out` (exactly `size` bytes), without an intermediate copy.
Status InflateInto(std::string_view stream, char* out, size_t size);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_DEFLATE_H_
