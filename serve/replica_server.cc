#include "serve/replica_server.h"

#include <httplib.h>

#include "runtime/base/http_listen.h"

#include "serve/replica_internal.h"

namespace cairn::serve {

using internal::kJson;

ReplicaServer::ReplicaServer(std::shared_ptr<const InferenceModel> model, ReplicaOptions options)
    : model_(model), options_(std::move(options)), batcher_(model, options_.max_batch), http_(new httplib::Server) {
  // httplib serves a connection per pool thread for as long as it is kept
  // alive, and the gateway keeps its connections open: enough threads for
  // its pool (at most 32 idle per replica) and for direct clients.
  http_->new_task_queue = [] { return new httplib::ThreadPool(96); };
  http_->set_tcp_nodelay(true);  // no Nagle stalls between a response's header and body writes
  http_->set_keep_alive_max_count(100000);
  http_->set_keep_alive_timeout(30);
  Routes();
}

ReplicaServer::~ReplicaServer() { Stop(); }

StatusOr<int> ReplicaServer::Start() {
  const int port = BindHttpServer(http_.get(), options_.host, options_.port);
  if (port <= 0) return UnavailableError("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  options_.port = port;
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return port;
}

void ReplicaServer::Stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

ReplicaStats ReplicaServer::stats() const { return ReplicaStats{requests_.load(), errors_.load(), tokens_.load()}; }

void ReplicaServer::Routes() {
  http_->Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"live\":true}", kJson); });
  http_->Get("/v2/health/ready", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ready\":true}", kJson); });
  KServeRoutes();
  OpenAiRoutes();
}

}  // namespace cairn::serve
