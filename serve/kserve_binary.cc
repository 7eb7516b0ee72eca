#include "serve/kserve_binary.h"

#include <cmath>
#include <cstring>
#include <limits>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "binary tensor data is little-endian, as is every host cairn runs on");

namespace cairn::serve {
namespace {

struct Type {
  std::string_view name;
  int size;
};
constexpr Type kTypes[] = {{"BOOL", 1},  {"UINT8", 1}, {"UINT16", 2}, {"UINT32", 4}, {"UINT64", 8}, {"INT8", 1},
                           {"INT16", 2}, {"INT32", 4}, {"INT64", 8},  {"FP16", 2},   {"BF16", 2},   {"FP32", 4},
                           {"FP64", 8},  {"BYTES", 0}};

float HalfToFloat(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f;
  const int mantissa = h & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal
  } else if (exponent == 31) {
    v = mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    v = std::ldexp(static_cast<float>(mantissa + 1024), exponent - 25);
  }
  return (h & 0x8000) ? -v : v;
}

template <typename T>
void Convert(const char* p, size_t count, std::vector<float>* out) {
  for (size_t i = 0; i < count; ++i) {
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    (*out)[i] = static_cast<float>(v);
  }
}

}  // namespace

StatusOr<std::optional<size_t>> ParseInferenceHeaderLength(const std::string& value, size_t body_size) {
  if (value.empty()) return std::optional<size_t>();
  if (value.size() > 18 || value.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgumentError(std::string(kInferenceHeaderLength) + ": '" + value.substr(0, 32) +
                                "' is not a length in bytes");
  }
  const size_t n = std::stoull(value);
  if (n > body_size) {
    return InvalidArgumentError(std::string(kInferenceHeaderLength) + ": " + value + " bytes of JSON header, but the body has " +
                                std::to_string(body_size));
  }
  return std::optional<size_t>(n);
}

int DatatypeSize(std::string_view datatype) {
  for (const auto& t : kTypes) {
    if (t.name == datatype) return t.size;
  }
  return -1;
}

bool NumericDatatype(std::string_view datatype) {
  return DatatypeSize(datatype) > 0 && datatype != "BOOL";
}

Status DecodeNumeric(std::string_view bytes, std::string_view datatype, size_t count, const std::string& field,
                     std::vector<float>* out) {
  const int size = DatatypeSize(datatype);
  if (!NumericDatatype(datatype)) return InvalidArgumentError(field + ": " + std::string(datatype) + " is not a numeric datatype");
  if (bytes.size() != count * static_cast<size_t>(size)) {
    return InvalidArgumentError(field + ": " + std::to_string(bytes.size()) + " bytes, but " + std::to_string(count) + " " +
                                std::string(datatype) + " values take " + std::to_string(count * static_cast<size_t>(size)));
  }
  out->resize(count);
  const char* p = bytes.data();
  if (datatype == "FP32") {
    std::memcpy(out->data(), p, count * 4);
  } else if (datatype == "FP64") {
    Convert<double>(p, count, out);
  } else if (datatype == "FP16") {
    for (size_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      (*out)[i] = HalfToFloat(h);
    }
  } else if (datatype == "BF16") {  // the top half of an fp32
    for (size_t i = 0; i < count; ++i) {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      const uint32_t bits = static_cast<uint32_t>(h) << 16;
      std::memcpy(&(*out)[i], &bits, 4);
    }
  } else if (datatype == "UINT8") {
    Convert<uint8_t>(p, count, out);
  } else if (datatype == "UINT16") {
    Convert<uint16_t>(p, count, out);
  } else if (datatype == "UINT32") {
    Convert<uint32_t>(p, count, out);
  } else if (datatype == "UINT64") {
    Convert<uint64_t>(p, count, out);
  } else if (datatype == "INT8") {
    Convert<int8_t>(p, count, out);
  } else if (datatype == "INT16") {
    Convert<int16_t>(p, count, out);
  } else if (datatype == "INT32") {
    Convert<int32_t>(p, count, out);
  } else {
    Convert<int64_t>(p, count, out);
  }
  return OkStatus();
}

Status DecodeBytes(std::string_view bytes, size_t count, const std::string& field, std::vector<std::string>* out) {
  out->clear();
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) {
      return InvalidArgumentError(field + ": BYTES element " + std::to_string(out->size()) + " is cut off in its 4-byte length");
    }
    uint32_t n;
    std::memcpy(&n, bytes.data() + at, 4);
    at += 4;
    if (n > bytes.size() - at) {
      return InvalidArgumentError(field + ": BYTES element " + std::to_string(out->size()) + " claims " + std::to_string(n) +
                                  " bytes; " + std::to_string(bytes.size() - at) + " are left");
    }
    if (out->size() == count) {
      return InvalidArgumentError(field + ": more BYTES elements than the shape's " + std::to_string(count));
    }
    out->emplace_back(bytes.substr(at, n));
    at += n;
  }
  if (out->size() != count) {
    return InvalidArgumentError(field + ": " + std::to_string(out->size()) + " BYTES elements; the shape needs " +
                                std::to_string(count));
  }
  return OkStatus();
}

void AppendFloats(const std::vector<float>& values, std::string* out) {
  out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
}

void AppendBytesElements(const std::vector<std::string>& elements, std::string* out) {
  for (const auto& e : elements) {
    const uint32_t n = static_cast<uint32_t>(e.size());
    out->append(reinterpret_cast<const char*>(&n), 4);
    out->append(e);
  }
}

}  // namespace cairn::serve
