// KServe's binary tensor data extension (Triton's "binary_tensor_data"): a
// request or response body is a JSON header of `Inference-Header-Content-Length`
// bytes followed by the tensors' raw data, in the order of the tensors whose
// parameters carry "binary_data_size". Data is little-endian, row-major,
// unpadded; a BYTES element is a 4-byte little-endian length and the bytes.
// These helpers decode and encode that data; serve/kserve_api.cc applies
// them to requests and responses.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_KSERVE_BINARY_H_
#define CAIRN_SERVE_KSERVE_BINARY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::serve {

inline constexpr char kInferenceHeaderLength[] = "Inference-Header-Content-Length";

// The JSON header's length from the header's value ("" when absent: none).
// InvalidArgument naming the header if it is not a decimal number or is
// longer than the body.
StatusOr<std::optional<size_t>> ParseInferenceHeaderLength(const std::string& value, size_t body_size);

// Bytes per element of a KServe datatype: 1 to 8, 0 for BYTES (variable),
// -1 for a datatype cairn does not know.
int DatatypeSize(std::string_view datatype);
// Numeric datatypes cairn converts to fp32: FP16, BF16, FP32, FP64, the
// signed and unsigned integers of 8 to 64 bits.
bool NumericDatatype(std::string_view datatype);

// `count` elements of numeric `datatype` from `bytes` (exactly their size)
// as floats; InvalidArgument naming `field` otherwise.
Status DecodeNumeric(std::string_view bytes, std::string_view datatype, size_t count, const std::string& field,
                     std::vector<float>* out);
// `count` BYTES elements; InvalidArgument naming `field` for a length past
// the end, a different count, or bytes left over.
Status DecodeBytes(std::string_view bytes, size_t count, const std::string& field, std::vector<std::string>* out);

void AppendFloats(const std::vector<float>& values, std::string* out);
void AppendBytesElements(const std::vector<std::string>& elements, std::string* out);

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_KSERVE_BINARY_H_
