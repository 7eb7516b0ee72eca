// CoordinatorServer: the `cairn coordinator` process as a library — the bus
// service (coordinator/coordinator.h) and its HTTP port started together:
// the ledger read API (ledger/http_api.h), the data plane (data/http_api.h),
// the inference gateway (scheduler/gateway.h), the accounts API
// (coordinator/accounts_api.h) and the coordinator's own routes
// (coordinator/http_routes.h). The CLI only parses flags into its options.
// Thread safety: construct and destroy on one thread; the parts are
// thread-safe.
#ifndef CAIRN_COORDINATOR_COORDINATOR_SERVER_H_
#define CAIRN_COORDINATOR_COORDINATOR_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "coordinator/coordinator.h"

namespace httplib {
class Server;
}

namespace cairn::coordinator {

struct CoordinatorServerOptions {
  CoordinatorOptions coordinator;
  std::string http = "127.0.0.1:0";  // HOST:PORT for HTTP (port 0: any free port; "": no HTTP)
};

class CoordinatorServer {
 public:
  // Opens (or creates) the data dir, starts the bus, then binds HTTP.
  // Unavailable if a port cannot be bound.
  static StatusOr<std::unique_ptr<CoordinatorServer>> Start(CoordinatorServerOptions options);
  // Stops HTTP, then the bus; waits for ledger writes.
  ~CoordinatorServer();

  Coordinator& coordinator() { return *coordinator_; }
  // The HTTP port bound (0 with HTTP off).
  int http_port() const { return http_port_; }

 private:
  CoordinatorServer() = default;
  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<httplib::Server> http_;
  std::thread http_thread_;
  int http_port_ = 0;
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_COORDINATOR_SERVER_H_
