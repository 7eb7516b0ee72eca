// The gateway's forwarding: requests relayed to a replica (retried once on
// another when one cannot be reached) with the headers that frame their
// bodies, and streams relayed event by event. The routes consumers call are
// in gateway_routes.cc; replicas, routing and accounting in gateway.cc.
#include "scheduler/gateway.h"

#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/log.h"
#include "serve/kserve_api.h"
#include "serve/kserve_binary.h"
#include "serve/openai_api.h"

#include "scheduler/gateway_upstream.h"

namespace cairn::scheduler {

constexpr const char* kJson = kGatewayJson;

void Gateway::Fail(Api api, int status, const std::string& message, httplib::Response& res, const std::string& param) {
  errors_->Increment();
  res.status = status;
  if (api == Api::kKServe) return res.set_content(serve::KServeError(message), kJson);
  // An unknown model is OpenAI's invalid_request_error / model_not_found.
  const bool no_model = status == 404 && param == "model";
  res.set_content(serve::OpenAiError(message, no_model ? "invalid_request_error" : serve::OpenAiErrorType(status), param,
                                     no_model ? "model_not_found" : ""),
                  kJson);
}

std::shared_ptr<Gateway::Upstream> Gateway::Forward(Api api, const std::string& model, const std::string& method,
                                                    const std::string& path, const httplib::Request& req,
                                                    httplib::Response& res) {
  // The headers that say how to read the body (binary tensor data follows
  // a JSON header of Inference-Header-Content-Length bytes).
  httplib::Headers headers;
  const std::string length = req.get_header_value(serve::kInferenceHeaderLength);
  if (!length.empty()) headers.emplace(serve::kInferenceHeaderLength, length);
  std::string content_type = req.get_header_value("Content-Type");
  if (content_type.empty()) content_type = kJson;
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
      r = method == "GET" ? client->Get(path) : client->Post(path, headers, req.body, content_type);
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
    if (r->has_header(serve::kInferenceHeaderLength)) {
      res.set_header(serve::kInferenceHeaderLength, r->get_header_value(serve::kInferenceHeaderLength));
    }
    res.set_content(std::move(r->body), r->get_header_value("Content-Type").empty() ? kJson : r->get_header_value("Content-Type"));
    return u;
  }
  Fail(api, tried.empty() ? 404 : 503,
       tried.empty() ? "the model '" + model + "' is not being served" : "no replica of '" + model + "' could be reached",
       res, api == Api::kOpenAi && tried.empty() ? "model" : "");
  return nullptr;
}

void Gateway::ForwardStream(const std::string& model, const std::string& path, const std::string& body, bool client_wants_usage,
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
  auto provider = [this, model, path, up_body, client_wants_usage, consumer, held, t0, charged](size_t, httplib::DataSink& sink) {
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
      up.path = path;
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

}  // namespace cairn::scheduler
