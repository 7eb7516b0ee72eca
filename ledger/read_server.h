// ReadApiServer: `cairn ledger serve` as a library — a ledger data
// directory's read API (ledger/http_api.h) and /healthz on an HTTP port,
// for auditors and tlog clients.
// Thread safety: Stop() from any thread (a signal handler's flag watcher).
#ifndef CAIRN_LEDGER_READ_SERVER_H_
#define CAIRN_LEDGER_READ_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "ledger/log.h"

namespace httplib {
class Server;
}

namespace cairn::ledger {

class ReadApiServer {
 public:
  // Serves `log` (it outlives the server) on `listen` ("HOST:PORT").
  // InvalidArgument for a malformed address, Unavailable if it cannot bind.
  static StatusOr<std::unique_ptr<ReadApiServer>> Start(Log* log, const std::string& listen);
  ~ReadApiServer();  // stops
  void Stop();

 private:
  ReadApiServer() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
};

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_READ_SERVER_H_
