// LogReader: read access to a ledger for clients and auditors, the same
// whether the log is a local data directory or a remote read API. Nothing
// read through it is trusted: callers verify (ledger/verify.h).
// Thread safety: one thread at a time.
#ifndef CAIRN_LEDGER_LOG_READER_H_
#define CAIRN_LEDGER_LOG_READER_H_

#include <memory>
#include <string>
#include <vector>

#include "ledger/hash_tiles.h"
#include "ledger/store.h"

namespace cairn::ledger {

class LogReader {
 public:
  virtual ~LogReader() = default;
  virtual StatusOr<std::string> Checkpoint() = 0;
  // Entries [first, first + count); fewer only if the log ends sooner.
  virtual StatusOr<std::vector<std::string>> Entries(uint64_t first, uint64_t count) = 0;
  // The first `width` hashes of hash tile `index` at tree level `level`.
  // Remote logs serve only levels that are multiples of 8 (C2SP tlog-tiles).
  virtual StatusOr<std::string> HashTile(int level, uint64_t index, int width) = 0;
  // Whether HashTile can serve tree level `level`.
  virtual bool HasLevel(int level) const = 0;
  // Where the log is, for messages.
  virtual std::string Where() const = 0;
};

// Reads a store (not owned; must outlive the reader).
std::unique_ptr<LogReader> NewStoreReader(const LedgerStore* store, std::string where);
// Reads a read API at `url` ("http://host:port"). InvalidArgument for a URL
// that is not plain http://host[:port].
StatusOr<std::unique_ptr<LogReader>> NewHttpReader(const std::string& url);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_LOG_READER_H_
