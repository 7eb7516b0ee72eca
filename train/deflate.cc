#include "train/deflate.h"

#include <zlib.h>

namespace cairn::train {

StatusOr<std::string> Deflate(std::string_view raw, int level) {
  if (raw.size() > (uint64_t{1} << 32)) return InvalidArgumentError("deflate input above 4 GiB");
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                           static_cast<uLong>(raw.size()), level);
  if (rc != Z_OK) return InternalError("deflate failed (zlib " + std::to_string(rc) + ")");
  out.resize(size);
  return out;
}

StatusOr<std::string> Inflate(std::string_view stream, size_t expected_size) {
  std::string out(expected_size, '\0');
  RETURN_IF_ERROR(InflateInto(stream, out.data(), out.size()));
  return out;
}

Status InflateInto(std::string_view stream, char* out, size_t expected_size) {
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return InternalError("inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(stream.data()));
  z.avail_in = static_cast<uInt>(stream.size());
  z.next_out = reinterpret_cast<Bytef*>(out);
  z.avail_out = static_cast<uInt>(expected_size);
  const int rc = inflate(&z, Z_FINISH);
  const size_t produced = expected_size - z.avail_out;
  const size_t trailing = z.avail_in;
  const std::string msg = z.msg ? std::string(": ") + z.msg : std::string();
  inflateEnd(&z);
  if (rc == Z_BUF_ERROR && produced == expected_size && trailing > 0) {
    // Output full before the stream ended: more data than announced.
    return InvalidArgumentError("deflate stream holds more than the expected " + std::to_string(expected_size) + " bytes");
  }
  if (rc != Z_STREAM_END) {
    return InvalidArgumentError("deflate stream is corrupt or truncated (zlib " + std::to_string(rc) + msg + ")");
  }
  if (produced != expected_size) {
    return InvalidArgumentError("deflate stream holds " + std::to_string(produced) + " bytes, expected " +
                                std::to_string(expected_size));
  }
  if (trailing != 0) return InvalidArgumentError(std::to_string(trailing) + " bytes follow the deflate stream");
  return OkStatus();
}

}  // namespace cairn::train
