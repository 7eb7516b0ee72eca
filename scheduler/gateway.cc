#include "scheduler/gateway.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/log.h"
#include "serve/kserve_api.h"
#include "serve/openai_api.h"
#include "scheduler/gateway_upstream.h"

namespace cairn::scheduler {
Gateway::Gateway() : Gateway(GatewayOptions{}) {}

Gateway::Gateway(GatewayOptions options)
    : clock_(options.clock),
      own_metrics_(options.metrics ? nullptr : std::make_unique<MetricsRegistry>()),
      metrics_(options.metrics ? options.metrics : own_metrics_.get()),
      meter_(MeterOptions{options.clock}) {
  const char* apis[] = {"openai", "kserve"};
  for (int a = 0; a < 2; ++a) {
    for (int c = 0; c < 5; ++c) {  // every class up front, so each shows at 0
      status_counts_[a][c] = &metrics_->Counter("cairn_inference_requests_total",
                                                "Inference requests through the gateway, by API and status class.",
                                                {{"api", apis[a]}, {"code", std::to_string(c + 1) + "xx"}});
    }
  }
  latency_[0] = &metrics_->Histogram("cairn_inference_latency_seconds_openai",
                                     "Gateway latency of OpenAI API requests (to the last byte).", LatencyBuckets());
  latency_[1] = &metrics_->Histogram("cairn_inference_latency_seconds_kserve", "Gateway latency of KServe v2 requests.",
                                     LatencyBuckets());
  errors_ = &metrics_->Counter("cairn_inference_errors_total", "Inference requests that failed (4xx/5xx or no replica).");
  retries_ = &metrics_->Counter("cairn_inference_retries_total", "Requests retried on another replica.");
  tokens_ = &metrics_->Counter("cairn_inference_tokens_total", "Tokens metered (prompt and completion).");
  replicas_ = &metrics_->Gauge("cairn_inference_replicas", "Replicas the gateway routes to.");
}

void Gateway::SetAccounting(Authenticator authenticate, CreditsOf credits) {
  authenticate_ = std::move(authenticate);
  credits_ = std::move(credits);
}

void Gateway::Observe(Api api, int status, double seconds) {
  const int a = api == Api::kOpenAi ? 0 : 1;
  latency_[a]->Observe(seconds);
  status_counts_[a][std::min(std::max(status / 100, 1), 5) - 1]->Increment();
}

double Gateway::SecondsSince(int64_t start_nanos) const {
  return static_cast<double>(clock_->MonotonicNanos() - start_nanos) / 1e9;
}

std::string Gateway::Metrics() const { return metrics_->Render(); }

void Gateway::CountReplicas() {
  size_t n = 0;
  for (const auto& [model, list] : models_) {
    n += static_cast<size_t>(std::count_if(list.begin(), list.end(), [](const auto& e) { return e->alive.load(); }));
  }
  replicas_->Set(static_cast<double>(n));
}

bool Gateway::Authorize(Api api, const httplib::Request& req, const std::string& model, uint64_t tokens_worst_case,
                        std::string* consumer, uint64_t* held, httplib::Response& res) {
  *held = 0;
  if (!authenticate_) return true;  // open gateway (no accounting configured)
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) != 0) {
    Fail(api, 401, "missing API key: send Authorization: Bearer KEY (cairn keys api new)", res);
    return false;
  }
  auto account = authenticate_(auth.substr(7));
  if (!account.ok()) {
    Fail(api, 401, "invalid API key: " + std::string(account.status().message()), res);
    return false;
  }
  *consumer = *account;
  std::shared_ptr<Upstream> u = Find(model);
  if (!u) {
    Fail(api, 404, "the model '" + model + "' is not being served", res, api == Api::kOpenAi ? "model" : "");
    return false;
  }
  const uint64_t worst = ChargeFor(tokens_worst_case, u->info.per_request_micros, u->info.per_1k_tokens_micros);
  const int64_t available = credits_(*consumer);
  if (worst > 0 && !meter_.Reserve(*consumer, worst, available)) {
    const int64_t left = available - static_cast<int64_t>(meter_.Pending(*consumer));
    char msg[256];
    std::snprintf(msg, sizeof(msg), "insufficient credits: this account has %.6f credits left, this request may cost %.6f",
                  static_cast<double>(std::max<int64_t>(left, 0)) / 1e6, static_cast<double>(worst) / 1e6);
    errors_->Increment();
    // OpenAI answers 429 insufficient_quota, which its clients raise as
    // RateLimitError with that code; x-should-retry: false stops them from
    // retrying what only a top-up will fix. KServe clients have no such
    // convention: 402 Payment Required says what it is.
    res.status = api == Api::kOpenAi ? 429 : 402;
    if (api == Api::kOpenAi) res.set_header("x-should-retry", "false");
    res.set_content(api == Api::kOpenAi ? serve::OpenAiError(msg, "insufficient_quota", "", "insufficient_quota")
                                        : serve::KServeError(msg),
                    kGatewayJson);
    return false;
  }
  *held = worst;
  return true;
}

void Gateway::Charge(const Upstream* u, const std::string& consumer, uint64_t tokens, uint64_t held) {
  if (!authenticate_) return;
  meter_.Release(consumer, held);
  if (!u) return;
  const uint64_t charge = ChargeFor(tokens, u->info.per_request_micros, u->info.per_1k_tokens_micros);
  const uint64_t worker = charge * u->info.worker_share_bps / 10000;
  meter_.Record(u->info.model_hash, consumer, u->info.worker_key, tokens, charge, worker);
  tokens_->Increment(static_cast<double>(tokens));
}
Gateway::~Gateway() = default;

void Gateway::AddReplica(const ReplicaInfo& replica) {
  auto u = std::make_shared<Upstream>();
  u->info = replica;
  MutexLock l(&mu_);
  auto& list = models_[replica.model];
  // A task re-announcing itself replaces its old entry.
  list.erase(std::remove_if(list.begin(), list.end(),
                            [&](const auto& e) { return e->info.job_id == replica.job_id && e->info.worker_id == replica.worker_id; }),
             list.end());
  list.push_back(std::move(u));
  CountReplicas();
}

void Gateway::RemoveWorker(const std::string& worker_id) {
  MutexLock l(&mu_);
  for (auto& [model, list] : models_) {
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& e) { return e->info.worker_id == worker_id; }), list.end());
  }
  CountReplicas();
}

void Gateway::RemoveJob(const std::string& job_id) {
  MutexLock l(&mu_);
  for (auto& [model, list] : models_) {
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& e) { return e->info.job_id == job_id; }), list.end());
  }
  CountReplicas();
}

void Gateway::RemoveReplica(const std::string& job_id, const std::string& worker_id) {
  MutexLock l(&mu_);
  for (auto& [model, list] : models_) {
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const auto& e) { return e->info.job_id == job_id && e->info.worker_id == worker_id; }),
               list.end());
  }
}

std::vector<ReplicaInfo> Gateway::Replicas() const {
  MutexLock l(&mu_);
  std::vector<ReplicaInfo> out;
  for (const auto& [model, list] : models_) {
    for (const auto& e : list) {
      if (e->alive) out.push_back(e->info);
    }
  }
  return out;
}

GatewayStats Gateway::stats() const {
  return GatewayStats{requests_.load(), static_cast<uint64_t>(errors_->Value()), static_cast<uint64_t>(retries_->Value()),
                      dropped_.load()};
}

std::shared_ptr<Gateway::Upstream> Gateway::Find(const std::string& model) const {
  MutexLock l(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return nullptr;
  for (const auto& e : it->second) {
    if (e->alive) return e;
  }
  return nullptr;
}

std::shared_ptr<Gateway::Upstream> Gateway::Pick(const std::string& model, const std::vector<Upstream*>& tried) {
  MutexLock l(&mu_);
  auto it = models_.find(model);
  if (it == models_.end()) return nullptr;
  const auto& list = it->second;
  std::shared_ptr<Upstream> best;
  const size_t n = list.size(), start = n ? static_cast<size_t>(next_.fetch_add(1)) % n : 0;
  for (size_t i = 0; i < n; ++i) {  // least outstanding, ties in rotation
    const auto& e = list[(start + i) % n];
    if (!e->alive || std::find(tried.begin(), tried.end(), e.get()) != tried.end()) continue;
    if (!best || e->outstanding < best->outstanding) best = e;
  }
  return best;
}

void Gateway::Drop(Upstream* u, const std::string& why) {
  if (!u->alive.exchange(false)) return;
  dropped_.fetch_add(1);
  CAIRN_LOG_WARN("gateway: dropping replica of {} on {}:{} ({})", u->info.model, u->info.host, u->info.port, why);
  MutexLock l(&mu_);
  auto& list = models_[u->info.model];
  list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& e) { return e.get() == u; }), list.end());
  CountReplicas();
}

}  // namespace cairn::scheduler
