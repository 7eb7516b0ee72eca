// The gateway's forwarding: requests relayed to a replica (retried once on
// another when one cannot be reached), streams relayed chunk by chunk, and
// the HTTP routes consumers call. Replicas, routing and accounting are in
// gateway.cc.
#include "scheduler/gateway.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/log.h"
#include "serve/kserve_api.h"
#include "serve/openai_api.h"

#include "scheduler/gateway_upstream.h"

namespace cairn::scheduler {

constexpr const char* kJson = kGatewayJson;

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
      if (std::none_of(list.begin(), list.end(), [&](const auto& m) { return m.id == r.model; })) {
        list.push_back({r.model, r.author_hex.empty() ? "cairn" : r.author_hex, 0, r.license, r.per_request_micros,
                        r.per_1k_tokens_micros, r.finetune_fee_micros});
      }
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
    const std::string model = req.matches[1];
    Forward(Api::kKServe, model, "GET", req.path, "", res);
    if (res.status != 200) return;
    // The model's terms join the replica's metadata as KServe parameters.
    auto j = nlohmann::json::parse(res.body, nullptr, false);
    for (const auto& r : Replicas()) {
      if (r.model != model || !j.is_object()) continue;
      j["parameters"] = {{"license", r.license},
                         {"author", r.author_hex},
                         {"per_request_micros", r.per_request_micros},
                         {"per_1k_tokens_micros", r.per_1k_tokens_micros},
                         {"finetune_fee_micros", r.finetune_fee_micros}};
      res.set_content(j.dump(), kJson);
      break;
    }
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
