#include "coordinator/coordinator_server.h"

#include <httplib.h>

#include "runtime/base/http_listen.h"

#include "coordinator/accounts_api.h"
#include "coordinator/http_routes.h"
#include "data/http_api.h"
#include "ledger/http_api.h"

namespace cairn::coordinator {

StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(CoordinatorServerOptions options) {
  std::unique_ptr<CoordinatorServer> s(new CoordinatorServer());
  ASSIGN_OR_RETURN(s->coordinator_, Coordinator::Start(options.coordinator));
  if (options.http.empty()) return s;
  const size_t colon = options.http.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--http must be HOST:PORT, got '" + options.http + "'");
  const std::string host = options.http.substr(0, colon);
  const int port = std::atoi(options.http.c_str() + colon + 1);
  s->http_ = std::make_unique<httplib::Server>();
  Coordinator* c = s->coordinator_.get();
  ledger::InstallReadApi(s->http_.get(), &c->ledger());
  data::InstallDataApi(s->http_.get(), &c->datasets());
  c->gateway().Install(s->http_.get());  // /v1 (OpenAI) and /v2 (KServe) inference
  InstallAccountsApi(s->http_.get(), c);
  InstallCoordinatorRoutes(s->http_.get(), c);
  s->http_port_ = BindHttpServer(s->http_.get(), host, port);
  if (s->http_port_ <= 0) return UnavailableError("cannot listen for HTTP on " + options.http);
  httplib::Server* http = s->http_.get();
  s->http_thread_ = std::thread([http] { http->listen_after_bind(); });
  return s;
}

CoordinatorServer::~CoordinatorServer() {
  if (http_) http_->stop();
  if (http_thread_.joinable()) http_thread_.join();
  coordinator_.reset();
}

}  // namespace cairn::coordinator
