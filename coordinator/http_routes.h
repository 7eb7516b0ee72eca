// The coordinator's own routes on its HTTP port (beside the ledger read
// API, the data plane, the gateway and the accounts API):
//   GET /jobs/ID/checkpoint[?round=R]  {"round", "attempt", "blob"}: the furthest
//                            checkpoint, or round R's (where a requeued attempt resumes; 404: none)
//   GET /models              every registered model
//   GET /models/NAME         one model: {"name", "blob", "job", "license", "parent", "datasets"}
//   GET /healthz             200 while the process serves (liveness)
//   GET /readyz              200 while the ledger accepts entries; 503 with the
//                            reason after a store failure (fail-stop)
//   GET /coordinator-key     the CURVE public key clients pin (hex)
//   GET /metrics             Prometheus text
// Thread safety: handlers run on httplib's pool; what they call is thread-safe.
#ifndef CAIRN_COORDINATOR_HTTP_ROUTES_H_
#define CAIRN_COORDINATOR_HTTP_ROUTES_H_

#include <string>

namespace httplib {
class Server;
}

namespace cairn::coordinator {

class Coordinator;
void InstallCoordinatorRoutes(httplib::Server* http, Coordinator* coordinator);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_HTTP_ROUTES_H_
