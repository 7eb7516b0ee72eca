// ReadApiClient: what `cairn ledger get | prove | consistency` ask a
// remote ledger's read API (ledger/http_api.h) beyond the tiles a LogReader
// reads: its verifier key, one entry with its inclusion proof, and a
// consistency proof. Nothing returned is trusted: callers verify it against
// a checkpoint that verifies under the key they pinned.
// Thread safety: one thread at a time.
#ifndef CAIRN_LEDGER_READ_API_CLIENT_H_
#define CAIRN_LEDGER_READ_API_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace httplib {
class Client;
}

namespace cairn::ledger {

struct ProvenEntry {
  std::string entry;                 // the entry's bytes
  std::vector<std::string> proof;    // inclusion proof hashes, base64, leaf to root
  std::string checkpoint;            // the signed note the proof is against
};

class ReadApiClient {
 public:
  // `url`: http://host[:port].
  explicit ReadApiClient(const std::string& url);
  ~ReadApiClient();
  // The server's own verifier key (trust it only to print a warning).
  StatusOr<std::string> VerifierKey();
  StatusOr<ProvenEntry> Entry(uint64_t index);
  StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t from, uint64_t to);

 private:
  // GET `path`: the body, or Unavailable naming the path and the reply.
  StatusOr<std::string> Get(const std::string& path);
  std::string url_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_READ_API_CLIENT_H_
