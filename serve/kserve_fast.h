// The two KServe v2 infer-request parsers behind ParseInferRequest
// (serve/kserve_api.h), exposed for the differential test.
//
// The fast one reads the common request shape in one pass, with numbers
// converted by std::from_chars: a 784-value image is ~10x quicker than
// through a JSON DOM, and JSON parsing was the replica's largest cost. It is
// deliberately narrow: anything it is not sure of (an escape or a non-ASCII
// byte in a string, a duplicate key, an out-of-range number, a missing or
// mistyped field, any syntax error) makes it give up, and ParseInferRequest
// then runs the complete parser, which either accepts the request with the
// same result or names what is wrong. So it never decides an error and never
// accepts what the complete parser would refuse.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_KSERVE_FAST_H_
#define CAIRN_SERVE_KSERVE_FAST_H_

#include <optional>
#include <string_view>

#include "serve/kserve_api.h"

namespace cairn::serve::internal {

std::optional<InferRequest> ParseInferRequestFast(std::string_view body);
StatusOr<InferRequest> ParseInferRequestComplete(std::string_view body);

}  // namespace cairn::serve::internal

#endif  // CAIRN_SERVE_KSERVE_FAST_H_
