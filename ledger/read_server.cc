#include "ledger/read_server.h"

#include <httplib.h>

#include "runtime/base/http_listen.h"

#include "ledger/http_api.h"

namespace cairn::ledger {

StatusOr<std::unique_ptr<ReadApiServer>> ReadApiServer::Start(Log* log, const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgumentError("--listen must be HOST:PORT, got '" + listen + "'");
  const std::string host = listen.substr(0, colon);
  const int port = std::atoi(listen.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return InvalidArgumentError("--listen port must be 1..65535");
  std::unique_ptr<ReadApiServer> s(new ReadApiServer());
  s->http_ = std::make_unique<httplib::Server>();
  InstallReadApi(s->http_.get(), log);
  s->http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  if (BindHttpServer(s->http_.get(), host, port) != port) return UnavailableError("cannot listen on " + listen);
  httplib::Server* http = s->http_.get();
  s->thread_ = std::thread([http] { http->listen_after_bind(); });
  return s;
}

void ReadApiServer::Stop() {
  if (http_) http_->stop();
}

ReadApiServer::~ReadApiServer() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cairn::ledger
