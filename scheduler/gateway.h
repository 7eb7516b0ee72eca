// The inference gateway on the coordinator's HTTP port: consumers call the
// OpenAI API (/v1/models[/{id}], /v1/completions, /v1/chat/completions,
// streaming included) and the KServe v2 protocol (/v2, /v2/health/*,
// /v2/models/{name}[/versions/{v}][/ready|/config|/infer], binary tensor
// data included); the gateway routes each request to a replica of that
// model (the one with the fewest requests in flight), over pooled
// keep-alive connections. When a replica cannot be reached it is dropped
// and the request is retried once on another (a stream only if nothing was
// sent yet). Serve tasks register their replicas (TaskServing); the
// coordinator removes them when a task ends or its worker is lost.
//
// With accounting set, every inference request needs `Authorization: Bearer
// KEY` (401 without a valid one) and enough credits for its worst case at
// the model's prices (per request, plus every prompt and n x max_tokens at
// the per-1,000-token price). Without them OpenAI requests get 429
// insufficient_quota with `x-should-retry: false` (what OpenAI answers, and
// what its clients raise as RateLimitError without retrying), KServe ones
// 402. What a request actually used (the replica's usage counts; a stream's
// usage chunk, requested upstream and passed on only if the consumer asked;
// a KServe text model's response parameters) is recorded in the Meter. A
// request's hold is released however it ends (a stream's too, if the
// consumer leaves before it starts).
// Metrics go into a MetricsRegistry (runtime/base/metrics.h):
// cairn_inference_requests_total{api,code}, cairn_inference_errors_total,
// cairn_inference_retries_total, cairn_inference_tokens_total,
// cairn_inference_replicas, and the latency histograms
// cairn_inference_latency_seconds_{openai,kserve}; latencies and the
// meter's windows are read from the injected Clock.
// Thread safety: all methods may be called from any thread.
#ifndef CAIRN_SCHEDULER_GATEWAY_H_
#define CAIRN_SCHEDULER_GATEWAY_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/base/metrics.h"
#include "runtime/base/mutex.h"
#include "runtime/base/statusor.h"
#include "scheduler/meter.h"

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
  std::string worker_key, model_hash;  // raw 32 bytes: who is paid, for what
  uint64_t per_request_micros = 0, per_1k_tokens_micros = 0;
  uint32_t worker_share_bps = 5000;
  // The model's terms, as registered in the ledger (shown by /v1/models and
  // KServe model metadata).
  std::string license, author_hex;
  uint64_t finetune_fee_micros = 0;
};

struct GatewayStats {
  uint64_t requests = 0, errors = 0, retries = 0, replicas_dropped = 0;
};

struct GatewayOptions {
  // Latencies and the meter's usage windows. Must outlive the gateway.
  const Clock* clock = Clock::System();
  // Where the gateway registers its metrics (shared with the rest of the
  // process); null: a registry of its own, which Metrics() renders. Must
  // outlive the gateway; its metrics stay in it after the gateway is gone,
  // and two gateways given one registry count into the same metrics.
  MetricsRegistry* metrics = nullptr;
};

class Gateway {
 public:
  Gateway();
  explicit Gateway(GatewayOptions options);
  ~Gateway();
  void AddReplica(const ReplicaInfo& replica);
  void RemoveWorker(const std::string& worker_id);
  void RemoveJob(const std::string& job_id);
  // The replica `worker_id` serves for `job_id`, if any.
  void RemoveReplica(const std::string& job_id, const std::string& worker_id);
  std::vector<ReplicaInfo> Replicas() const;
  // Registers the routes on the coordinator's HTTP server, and sets it up for
  // many kept-alive connections (thread pool, keep-alive, TCP_NODELAY).
  void Install(httplib::Server* http);
  GatewayStats stats() const;
  // API key -> account (raw key); and an account's available credits.
  using Authenticator = std::function<StatusOr<std::string>(const std::string& api_key)>;
  using CreditsOf = std::function<int64_t(const std::string& account)>;
  void SetAccounting(Authenticator authenticate, CreditsOf credits);
  Meter& meter() { return meter_; }
  // Prometheus text of the registry the gateway's metrics are in (with
  // GatewayOptions::metrics set, everything in that registry).
  std::string Metrics() const;

 private:
  struct Upstream;
  enum class Api { kOpenAi, kKServe };
  // The replica to send a request to: the one with the fewest requests in
  // flight, ties in rotation, skipping those `tried`. Null if none.
  std::shared_ptr<Upstream> Pick(const std::string& model, const std::vector<Upstream*>& tried);
  // Some live replica of `model` (for its prices, or whether it is served),
  // without moving the rotation: only Pick may, once per attempt, or a
  // model with two replicas sends every request to the same one.
  std::shared_ptr<Upstream> Find(const std::string& model) const;
  void Drop(Upstream* u, const std::string& why);
  // Forwards a request body to a replica of `model`; fills `res`. Returns
  // the replica that answered (null if none could).
  // `req` gives the body and the headers that frame it.
  std::shared_ptr<Upstream> Forward(Api api, const std::string& model, const std::string& method, const std::string& path,
                                    const httplib::Request& req, httplib::Response& res);
  // Relays a streamed OpenAI request (`path`: completions or chat).
  void ForwardStream(const std::string& model, const std::string& path, const std::string& body, bool client_wants_usage,
                     const std::string& consumer, uint64_t held, httplib::Response& res);
  // The routes of each API (gateway_routes.cc).
  void InstallOpenAi(httplib::Server* http);
  void InstallKServe(httplib::Server* http);
  // A streamed or plain OpenAI request, once parsed: authorizes `worst`
  // tokens, forwards, and charges what the response reports.
  void ServeOpenAi(const httplib::Request& req, httplib::Response& res, const std::string& path, const std::string& model,
                   uint64_t worst, bool stream, bool include_usage, int64_t t0);
  void Fail(Api api, int status, const std::string& message, httplib::Response& res, const std::string& param = "");
  // Who pays: the account of the request's API key, with enough credits for
  // the worst case at the prices of `model`'s replicas, which are held
  // (`*held`) until Charge. False (and `res` set to 401/402/404) if not.
  bool Authorize(Api api, const httplib::Request& req, const std::string& model, uint64_t tokens_worst_case,
                 std::string* consumer, uint64_t* held, httplib::Response& res);
  // Releases the hold and meters what replica `u` (null: none answered) served.
  void Charge(const Upstream* u, const std::string& consumer, uint64_t tokens, uint64_t held);
  // Counts one request's outcome and observes its latency.
  void Observe(Api api, int status, double seconds);
  // Seconds on clock_ since `start_nanos` (a MonotonicNanos reading).
  double SecondsSince(int64_t start_nanos) const;
  // Sets the replicas gauge from models_.
  void CountReplicas() EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Clock* const clock_;
  std::unique_ptr<MetricsRegistry> own_metrics_;  // when none was given
  MetricsRegistry* const metrics_;
  mutable Mutex mu_;
  std::map<std::string, std::vector<std::shared_ptr<Upstream>>> models_ GUARDED_BY(mu_);
  Authenticator authenticate_;
  CreditsOf credits_;
  Meter meter_;
  // Owned by *metrics_.
  prometheus::Histogram* latency_[2];         // [api]
  prometheus::Counter* status_counts_[2][5];  // [api][status / 100 - 1]
  prometheus::Counter *errors_, *retries_, *tokens_;
  prometheus::Gauge* replicas_;
  std::atomic<uint64_t> next_{0}, requests_{0}, dropped_{0};
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_GATEWAY_H_
