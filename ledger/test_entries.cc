#include "ledger/test_entries.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "ledger/entry.h"
#include "runtime/base/mutex.h"

namespace cairn::ledger {

StatusOr<std::vector<std::string>> SignTestEntries(const Ed25519PrivateKey& actor, uint64_t first_sequence, uint64_t count,
                                                   size_t payload_bytes, int threads, const Clock* clock) {
  std::vector<std::string> entries(count);
  const std::string payload(payload_bytes, 'p');
  std::atomic<uint64_t> next{0};
  Mutex mu;
  Status failure;
  std::vector<std::thread> signers;
  for (int t = 0; t < std::max(1, threads); ++t) {
    signers.emplace_back([&] {
      for (uint64_t i; (i = next.fetch_add(1)) < count;) {
        auto e = MakeEntry(actor, clock->NowUnixMillis(), [&](schema::LedgerEntry::Body::Builder b) {
          auto t = b.initTest();
          t.setSequence(first_sequence + i);
          t.setPayload(AsData(payload));
        });
        if (!e.ok()) {
          MutexLock lock(&mu);
          failure = e.status();
          return;
        }
        entries[i] = std::move(e).value();
      }
    });
  }
  for (auto& t : signers) t.join();
  if (!failure.ok()) return failure;
  return entries;
}

}  // namespace cairn::ledger
