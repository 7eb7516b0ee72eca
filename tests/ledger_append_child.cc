// Test helper for ledger_crash_test: appends signed test entries to the
// ledger in DIR from several threads, forever, printing "ack <index> <seq>"
// (flushed) for each entry only after Append acknowledged it. The parent
// kills it with SIGKILL at a random moment.
// Usage: ledger_append_child DIR FIRST_SEQ
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "ledger/data_dir.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  auto log = cairn::ledger::OpenDataDir(argv[1]);
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    return 1;
  }
  auto actor = cairn::Ed25519PrivateKey::Generate().value();
  std::atomic<uint64_t> seq{std::strtoull(argv[2], nullptr, 10)};
  std::mutex out_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (;;) {
        uint64_t s = seq.fetch_add(1);
        auto e = cairn::ledger::MakeEntry(actor, 1, [&](auto b) { b.initTest().setSequence(s); });
        auto idx = (*log)->Append(*e);
        if (!idx.ok()) {
          std::fprintf(stderr, "append: %s\n", idx.status().ToString().c_str());
          std::exit(1);
        }
        std::lock_guard<std::mutex> lock(out_mu);
        std::printf("ack %llu %llu\n", static_cast<unsigned long long>(*idx), static_cast<unsigned long long>(s));
        std::fflush(stdout);
      }
    });
  }
  for (auto& t : threads) t.join();
}
