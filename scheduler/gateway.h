// The inference gateway on the coordinator's HTTP port: consumers call the
// OpenAI completions API (/v1/models, /v1/completions, streaming included)
// and the KServe v2 protocol (/v2/health/*, /v2/models/{name}[/ready|/infer]);
// the gateway routes each request to a replica of that model (the one with
// the fewest requests in flight), over pooled keep-alive connections. When
// a replica cannot be reached it is dropped and the request is retried once
// on another (a stream only if nothing was sent yet). Serve tasks register
// their replicas (TaskServing); the coordinator removes them when a task
// ends or its worker is lost.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_SCHEDULER_GATEWAY_H_
#define CAIRN_SCHEDULER_GATEWAY_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/mutex.h"

namespace httplib {
class Server;
class Client;
struct Request;
struct Response;
}  // namespace httplib

namespace cairn::scheduler {

struct ReplicaInfo {
  std::string model, task, job_id, worker_id;
  std::string host;
  int port = 0;
};

struct GatewayStats {
  uint64_t requests = 0, errors = 0, retries = 0, replicas_dropped = 0;
};

class Gateway {
 public:
  Gateway();
  ~Gateway();
  void AddReplica(const ReplicaInfo& replica);
  void RemoveWorker(const std::string& worker_id);
  void RemoveJob(const std::string& job_id);
  std::vector<ReplicaInfo> Replicas() const;
  // Registers the routes on the coordinator's HTTP server.
  void Install(httplib::Server* http);
  GatewayStats stats() const;

 private:
  struct Upstream;
  enum class Api { kOpenAi, kKServe };
  std::shared_ptr<Upstream> Pick(const std::string& model, const std::vector<Upstream*>& tried);
  void Drop(Upstream* u, const std::string& why);
  // Forwards a request body to a replica of `model`; fills `res`.
  void Forward(Api api, const std::string& model, const std::string& method, const std::string& path,
               const httplib::Request& req, httplib::Response& res);
  void ForwardStream(const std::string& model, const std::string& body, httplib::Response& res);
  void Fail(Api api, int status, const std::string& message, httplib::Response& res, const std::string& param = "");

  mutable Mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<Upstream>>> models_ GUARDED_BY(mu_);
  std::atomic<uint64_t> next_{0}, requests_{0}, errors_{0}, retries_{0}, dropped_{0};
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_GATEWAY_H_
