// Constant-time comparison for secrets (API keys, MACs, key material): the
// running time depends only on the lengths, never on where bytes differ.
// Thread safety: pure function.
#ifndef CAIRN_RUNTIME_CRYPTO_CONSTANT_TIME_H_
#define CAIRN_RUNTIME_CRYPTO_CONSTANT_TIME_H_

#include <string_view>

namespace cairn {

// True iff a and b are equal. Lengths are not secret: unequal lengths return
// false at once.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_CONSTANT_TIME_H_
