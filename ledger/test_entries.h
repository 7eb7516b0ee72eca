// Synthetic signed test entries (TestEntry bodies, which move no money),
// for load generation (`cairn ledger load`) and benchmarks.
// Thread safety: pure function; uses `threads` threads of its own.
#ifndef CAIRN_LEDGER_TEST_ENTRIES_H_
#define CAIRN_LEDGER_TEST_ENTRIES_H_

#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"

namespace cairn::ledger {

// `count` entries signed by `actor`, sequences first_sequence.., each with
// `payload_bytes` of payload, signed on `threads` threads.
StatusOr<std::vector<std::string>> SignTestEntries(const Ed25519PrivateKey& actor, uint64_t first_sequence, uint64_t count,
                                                   size_t payload_bytes, int threads, const Clock* clock = Clock::System());

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_TEST_ENTRIES_H_
