// Helpers shared by the payout engine's files (ledger/payouts*.cc).
#ifndef CAIRN_LEDGER_PAYOUTS_INTERNAL_H_
#define CAIRN_LEDGER_PAYOUTS_INTERNAL_H_

#include <cstdint>
#include <string>

#include "runtime/base/encoding.h"

namespace cairn::ledger {

inline std::string Short(const std::string& key) { return HexEncode(key.substr(0, 8)); }

// floor(a * b / c) without overflow (a 128-bit intermediate; results past
// 2^64 saturate, far beyond any real amount).
inline uint64_t MulDiv(uint64_t a, uint64_t b, uint64_t c) {
  __extension__ typedef unsigned __int128 U128;
  U128 r = static_cast<U128>(a) * b / c;
  return r > UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(r);
}

// `to - from` in milliseconds, 0 when `to` is not after `from`; exact for
// any two int64 timestamps (a signed subtraction could overflow).
inline uint64_t MillisBetween(int64_t from, int64_t to) {
  return to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from) : 0;
}

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_PAYOUTS_INTERNAL_H_
