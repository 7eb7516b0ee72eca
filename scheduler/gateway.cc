#include "scheduler/gateway.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/log.h"
#include "serve/kserve_api.h"
#include "serve/openai_api.h"

namespace cairn::scheduler {
namespace {

constexpr char kJson[] = "application/json";
constexpr size_t kMaxIdleConnections = 32;  // per replica; each holds one of its server threads

}  // namespace

struct Gateway::Upstream {
  ReplicaInfo info;
  std::atomic<int> outstanding{0};
  std::atomic<bool> alive{true};
  Mutex pool_mu;
  std::vector<std::unique_ptr<httplib::Client>> idle GUARDED_BY(pool_mu);

  // A pooled keep-alive connection, or a new one (`*reused` says which).
  std::unique_ptr<httplib::Client> Lease(bool* reused) {
    {
      MutexLock l(&pool_mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        *reused = true;
        return c;
      }
    }
    *reused = false;
    auto c = std::make_unique<httplib::Client>(info.host, info.port);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(120, 0);
    c->set_write_timeout(10, 0);
    return c;
  }
  void Return(std::unique_ptr<httplib::Client> c) {
    MutexLock l(&pool_mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(c));
  }
};

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
    res.status = 402;
    res.set_content(api == Api::kOpenAi ? serve::OpenAiError(msg, "insufficient_quota", "", "insufficient_quota")
                                        : serve::KServeError(msg),
                    kJson);
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

void Gateway::Fail(Api api, int status, const std::string& message, httplib::Response& res, const std::string& param) {
  errors_->Increment();
  res.status = status;
  res.set_content(api == Api::kOpenAi ? serve::OpenAiError(message, serve::OpenAiErrorType(status), param)
                                      : serve::KServeError(message),
                  kJson);
}

std::shared_ptr<Gateway::Upstream> Gateway::Forward(Api api, const std::string& model, const std::string& method,
                                                    const std::string& path, const std::string& body, httplib::Response& res) {
  std::vector<Upstream*> tried;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto u = Pick(model, tried);
    if (!u) break;
    tried.push_back(u.get());
    ++u->outstanding;
    httplib::Result r{nullptr, httplib::Error::Unknown};
    for (int fresh = 0; fresh < 2; ++fresh) {  // a stale pooled connection gets one new one
      bool reused = false;
      auto client = u->Lease(&reused);
      r = method == "GET" ? client->Get(path) : client->Post(path, body, kJson);
      if (r) {
        u->Return(std::move(client));
        break;
      }
      if (!reused) break;
    }
    --u->outstanding;
    if (!r) {
      // Refused or reset: the replica is gone. A timeout may only mean it is
      // busy: try another, keep this one.
      if (r.error() != httplib::Error::ConnectionTimeout) Drop(u.get(), httplib::to_string(r.error()));
      if (attempt == 0) retries_->Increment();
      continue;
    }
    if (r->status >= 400) errors_->Increment();
    res.status = r->status;
    res.set_content(r->body, r->get_header_value("Content-Type").empty() ? kJson : r->get_header_value("Content-Type"));
    return u;
  }
  Fail(api, tried.empty() ? 404 : 503,
       tried.empty() ? "the model '" + model + "' is not being served" : "no replica of '" + model + "' could be reached",
       res, api == Api::kOpenAi && tried.empty() ? "model" : "");
  return nullptr;
}

void Gateway::ForwardStream(const std::string& model, const std::string& body, bool client_wants_usage,
                            const std::string& consumer, uint64_t held, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  // Ask the replica for the usage chunk either way (metering needs it); pass
  // it on only if the consumer asked.
  nlohmann::json upstream_body = nlohmann::json::parse(body, nullptr, false);
  upstream_body["stream_options"] = {{"include_usage", true}};
  const std::string up_body = upstream_body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const int64_t t0 = clock_->MonotonicNanos();
  // Charged once: by the provider when it ran, else (the consumer left
  // before the response began, and httplib never called it) by the releaser,
  // which httplib runs either way; without it the hold would stay for good.
  auto charged = std::make_shared<std::atomic<bool>>(false);
  auto provider = [this, model, up_body, client_wants_usage, consumer, held, t0, charged](size_t, httplib::DataSink& sink) {
    std::vector<Upstream*> tried;
    bool sent = false;
    std::shared_ptr<Upstream> answered;
    uint64_t tokens = 0;
    for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
      auto u = Pick(model, tried);
      if (!u) break;
      tried.push_back(u.get());
      std::string pending;  // an event split across reads
      httplib::Request up;
      up.method = "POST";
      up.path = "/v1/completions";
      up.body = up_body;
      up.set_header("Content-Type", kJson);
      up.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        sent = true;
        pending.append(data, n);
        size_t end;
        while ((end = pending.find("\n\n")) != std::string::npos) {
          const std::string event = pending.substr(0, end + 2);
          pending.erase(0, end + 2);
          if (event.rfind("data: {", 0) == 0 && event.find("\"usage\"") != std::string::npos) {
            auto j = nlohmann::json::parse(event.substr(6), nullptr, false);
            if (j.is_object() && j.contains("usage") && j["choices"].empty()) {
              tokens = j["usage"].value("total_tokens", uint64_t{0});
              if (!client_wants_usage) continue;
            }
          }
          if (!sink.write(event.data(), event.size())) return false;
        }
        return true;
      };
      ++u->outstanding;
      bool reused = false;
      auto client = u->Lease(&reused);
      httplib::Response ures;
      httplib::Error err = httplib::Error::Success;
      bool ok = client->send(up, ures, err);
      if (!ok && reused && !sent) {
        client = u->Lease(&reused);
        ok = client->send(up, ures, err);
      }
      --u->outstanding;
      if (ok) {
        u->Return(std::move(client));
        answered = u;
        break;
      }
      if (!sent) {
        if (err != httplib::Error::ConnectionTimeout) Drop(u.get(), httplib::to_string(err));
        if (attempt == 0) retries_->Increment();
      }
    }
    if (!sent) {
      errors_->Increment();
      const std::string e = "data: " + serve::OpenAiError("no replica of '" + model + "' could be reached", "server_error") +
                            "\n\ndata: [DONE]\n\n";
      sink.write(e.data(), e.size());
    }
    if (!charged->exchange(true)) Charge(answered.get(), consumer, tokens, held);
    Observe(Api::kOpenAi, sent ? 200 : 503, SecondsSince(t0));
    sink.done();
    return true;
  };
  res.set_chunked_content_provider("text/event-stream", std::move(provider), [this, consumer, held, charged](bool) {
    if (!charged->exchange(true)) Charge(nullptr, consumer, 0, held);
  });
}

void Gateway::Install(httplib::Server* http) {
  // A kept-alive consumer connection holds one server thread: room for many,
  // kept open long, and no Nagle stalls between a response's writes.
  http->new_task_queue = [] { return new httplib::ThreadPool(128); };
  http->set_tcp_nodelay(true);
  http->set_keep_alive_max_count(100000);
  http->set_keep_alive_timeout(30);
  http->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<serve::ListedModel> list;
    for (const auto& r : Replicas()) {
      if (std::none_of(list.begin(), list.end(), [&](const auto& m) { return m.id == r.model; })) list.push_back({r.model, "cairn", 0});
    }
    res.set_content(serve::ModelList(list), kJson);
  });
  http->Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    const int64_t t0 = clock_->MonotonicNanos();
    auto parsed = serve::ParseCompletionRequest(req.body);
    if (!parsed.ok()) {
      errors_->Increment();
      res.status = 400;
      res.set_content(serve::OpenAiInvalidRequest(parsed.status()), kJson);
      return Observe(Api::kOpenAi, 400, 0);
    }
    std::string consumer;
    uint64_t held = 0;
    const uint64_t worst = parsed->prompt.size() + static_cast<uint64_t>(parsed->options.max_tokens);
    if (!Authorize(Api::kOpenAi, req, parsed->model, worst, &consumer, &held, res)) return Observe(Api::kOpenAi, res.status, 0);
    if (parsed->stream) {
      if (!Find(parsed->model)) {
        Charge(nullptr, consumer, 0, held);
        Fail(Api::kOpenAi, 404, "the model '" + parsed->model + "' is not being served", res, "model");
        return Observe(Api::kOpenAi, 404, 0);
      }
      return ForwardStream(parsed->model, req.body, parsed->include_usage, consumer, held, res);
    }
    auto u = Forward(Api::kOpenAi, parsed->model, "POST", "/v1/completions", req.body, res);
    uint64_t tokens = 0;
    if (u && res.status == 200) {
      auto j = nlohmann::json::parse(res.body, nullptr, false);
      if (j.is_object() && j.contains("usage") && j["usage"].is_object()) tokens = j["usage"].value("total_tokens", uint64_t{0});
    }
    Charge(u && res.status == 200 ? u.get() : nullptr, consumer, tokens, held);
    Observe(Api::kOpenAi, res.status, SecondsSince(t0));
  });
  http->Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"live\":true}", kJson); });
  http->Get("/v2/health/ready", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ready\":true}", kJson); });
  http->Get(R"(/v2/models/([A-Za-z0-9._-]{1,128}))", [this](const httplib::Request& req, httplib::Response& res) {
    Forward(Api::kKServe, req.matches[1], "GET", req.path, "", res);
  });
  http->Get(R"(/v2/models/([A-Za-z0-9._-]{1,128})/ready)", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string model = req.matches[1];
    if (!Find(model)) return Fail(Api::kKServe, 404, "the model '" + model + "' is not being served", res);
    res.set_content("{\"name\":\"" + model + "\",\"ready\":true}", kJson);
  });
  http->Post(R"(/v2/models/([A-Za-z0-9._-]{1,128})/infer)", [this](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    const int64_t t0 = clock_->MonotonicNanos();
    const std::string model = req.matches[1];
    std::string consumer;
    uint64_t held = 0;
    if (!Authorize(Api::kKServe, req, model, 0, &consumer, &held, res)) return Observe(Api::kKServe, res.status, 0);
    auto u = Forward(Api::kKServe, model, "POST", req.path, req.body, res);
    Charge(u && res.status == 200 ? u.get() : nullptr, consumer, 0, held);
    Observe(Api::kKServe, res.status, SecondsSince(t0));
  });
}

}  // namespace cairn::scheduler
