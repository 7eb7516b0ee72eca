#include "scheduler/gateway.h"

#include <algorithm>
#include <mutex>

#include <httplib.h>

#include "runtime/base/log.h"
#include "serve/kserve_api.h"
#include "serve/openai_api.h"

namespace cairn::scheduler {
namespace {

constexpr char kJson[] = "application/json";
constexpr size_t kMaxIdleConnections = 64;

}  // namespace

struct Gateway::Upstream {
  ReplicaInfo info;
  std::atomic<int> outstanding{0};
  std::atomic<bool> alive{true};
  std::mutex pool_mu;
  std::vector<std::unique_ptr<httplib::Client>> idle;

  // A pooled keep-alive connection, or a new one (`*reused` says which).
  std::unique_ptr<httplib::Client> Lease(bool* reused) {
    {
      std::lock_guard<std::mutex> l(pool_mu);
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
    c->set_connection_timeout(1, 0);
    c->set_read_timeout(120, 0);
    c->set_write_timeout(10, 0);
    return c;
  }
  void Return(std::unique_ptr<httplib::Client> c) {
    std::lock_guard<std::mutex> l(pool_mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(c));
  }
};

Gateway::Gateway() = default;
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
}

void Gateway::RemoveWorker(const std::string& worker_id) {
  MutexLock l(&mu_);
  for (auto& [model, list] : models_) {
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& e) { return e->info.worker_id == worker_id; }), list.end());
  }
}

void Gateway::RemoveJob(const std::string& job_id) {
  MutexLock l(&mu_);
  for (auto& [model, list] : models_) {
    list.erase(std::remove_if(list.begin(), list.end(), [&](const auto& e) { return e->info.job_id == job_id; }), list.end());
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

GatewayStats Gateway::stats() const { return GatewayStats{requests_.load(), errors_.load(), retries_.load(), dropped_.load()}; }

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
}

void Gateway::Fail(Api api, int status, const std::string& message, httplib::Response& res, const std::string& param) {
  errors_.fetch_add(1);
  res.status = status;
  res.set_content(api == Api::kOpenAi ? serve::OpenAiError(message, serve::OpenAiErrorType(status), param)
                                      : serve::KServeError(message),
                  kJson);
}

void Gateway::Forward(Api api, const std::string& model, const std::string& method, const std::string& path,
                      const httplib::Request& req, httplib::Response& res) {
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
      r = method == "GET" ? client->Get(path) : client->Post(path, req.body, kJson);
      if (r) {
        u->Return(std::move(client));
        break;
      }
      if (!reused) break;
    }
    --u->outstanding;
    if (!r) {
      Drop(u.get(), httplib::to_string(r.error()));
      if (attempt == 0) retries_.fetch_add(1);
      continue;
    }
    if (r->status >= 400) errors_.fetch_add(1);
    res.status = r->status;
    res.set_content(r->body, r->get_header_value("Content-Type").empty() ? kJson : r->get_header_value("Content-Type"));
    return;
  }
  Fail(api, tried.empty() ? 404 : 503,
       tried.empty() ? "the model '" + model + "' is not being served" : "no replica of '" + model + "' could be reached",
       res, api == Api::kOpenAi && tried.empty() ? "model" : "");
}

void Gateway::ForwardStream(const std::string& model, const std::string& body, httplib::Response& res) {
  res.set_header("Cache-Control", "no-cache");
  res.set_chunked_content_provider("text/event-stream", [this, model, body](size_t, httplib::DataSink& sink) {
    std::vector<Upstream*> tried;
    bool sent = false;
    for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
      auto u = Pick(model, tried);
      if (!u) break;
      tried.push_back(u.get());
      httplib::Request up;
      up.method = "POST";
      up.path = "/v1/completions";
      up.body = body;
      up.set_header("Content-Type", kJson);
      up.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
        sent = true;
        return sink.write(data, n);
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
        break;
      }
      if (!sent) {
        Drop(u.get(), httplib::to_string(err));
        if (attempt == 0) retries_.fetch_add(1);
      }
    }
    if (!sent) {
      errors_.fetch_add(1);
      const std::string e = "data: " + serve::OpenAiError("no replica of '" + model + "' could be reached", "server_error") +
                            "\n\ndata: [DONE]\n\n";
      sink.write(e.data(), e.size());
    }
    sink.done();
    return true;
  });
}

void Gateway::Install(httplib::Server* http) {
  http->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<serve::ListedModel> list;
    for (const auto& r : Replicas()) {
      if (std::none_of(list.begin(), list.end(), [&](const auto& m) { return m.id == r.model; })) list.push_back({r.model, "cairn", 0});
    }
    res.set_content(serve::ModelList(list), kJson);
  });
  http->Post("/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    auto parsed = serve::ParseCompletionRequest(req.body);
    if (!parsed.ok()) {
      const std::string m(parsed.status().message());
      const size_t colon = m.find(':');
      return Fail(Api::kOpenAi, 400, m, res, colon != std::string::npos && m.find(' ') > colon ? m.substr(0, colon) : "");
    }
    if (!parsed->stream) return Forward(Api::kOpenAi, parsed->model, "POST", "/v1/completions", req, res);
    if (!Pick(parsed->model, {})) return Fail(Api::kOpenAi, 404, "the model '" + parsed->model + "' is not being served", res, "model");
    ForwardStream(parsed->model, req.body, res);
  });
  http->Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"live\":true}", kJson); });
  http->Get("/v2/health/ready", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ready\":true}", kJson); });
  http->Get(R"(/v2/models/([A-Za-z0-9._-]{1,128}))", [this](const httplib::Request& req, httplib::Response& res) {
    Forward(Api::kKServe, req.matches[1], "GET", req.path, req, res);
  });
  http->Get(R"(/v2/models/([A-Za-z0-9._-]{1,128})/ready)", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string model = req.matches[1];
    if (!Pick(model, {})) return Fail(Api::kKServe, 404, "the model '" + model + "' is not being served", res);
    res.set_content("{\"name\":\"" + model + "\",\"ready\":true}", kJson);
  });
  http->Post(R"(/v2/models/([A-Za-z0-9._-]{1,128})/infer)", [this](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    Forward(Api::kKServe, req.matches[1], "POST", req.path, req, res);
  });
}

}  // namespace cairn::scheduler
