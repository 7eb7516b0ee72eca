// The HTTP routes consumers call on the gateway: OpenAI's (models,
// completions, chat completions) and KServe v2's (server and model
// metadata, model configuration, readiness, inference with JSON or binary
// tensors). Each parses just enough to authorize the worst case, forwards
// (gateway_forward.cc) and charges what the replica's answer reports.
#include <algorithm>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "scheduler/gateway.h"
#include "scheduler/gateway_upstream.h"
#include "serve/kserve_api.h"
#include "serve/kserve_binary.h"
#include "serve/openai_api.h"
#include "serve/openai_chat.h"

namespace cairn::scheduler {
namespace {

constexpr const char* kJson = kGatewayJson;

// The model route of KServe: /v2/models/NAME[/versions/V]SUFFIX.
std::string KServeRoute(const std::string& suffix) {
  return R"(/v2/models/([A-Za-z0-9._-]{1,128})(?:/versions/([A-Za-z0-9._-]{1,32}))?)" + suffix;
}

serve::ListedModel Listed(const ReplicaInfo& r) {
  return {r.model, r.author_hex.empty() ? "cairn" : r.author_hex, 0, r.license, r.per_request_micros, r.per_1k_tokens_micros,
          r.finetune_fee_micros};
}

// The tokens a replica's answer reports: an OpenAI response's usage, or a
// KServe text response's parameters (in its JSON header).
uint64_t ReportedTokens(const httplib::Response& res) {
  std::string_view body = res.body;
  if (res.has_header(serve::kInferenceHeaderLength)) {
    auto n = serve::ParseInferenceHeaderLength(res.get_header_value(serve::kInferenceHeaderLength), body.size());
    if (!n.ok() || !*n) return 0;
    body = body.substr(0, **n);
  }
  auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (!j.is_object()) return 0;
  if (j.contains("usage") && j["usage"].is_object()) return j["usage"].value("total_tokens", uint64_t{0});
  if (j.contains("parameters") && j["parameters"].is_object()) {
    const auto& p = j["parameters"];
    return p.value("prompt_tokens", uint64_t{0}) + p.value("completion_tokens", uint64_t{0});
  }
  return 0;
}

}  // namespace

void Gateway::Install(httplib::Server* http) {
  // A kept-alive consumer connection holds one server thread: room for many,
  // kept open long, and no Nagle stalls between a response's writes.
  http->new_task_queue = [] { return new httplib::ThreadPool(128); };
  http->set_tcp_nodelay(true);
  http->set_keep_alive_max_count(100000);
  http->set_keep_alive_timeout(30);
  InstallOpenAi(http);
  InstallKServe(http);
}

void Gateway::ServeOpenAi(const httplib::Request& req, httplib::Response& res, const std::string& path,
                          const std::string& model, uint64_t worst, bool stream, bool include_usage, int64_t t0) {
  std::string consumer;
  uint64_t held = 0;
  if (!Authorize(Api::kOpenAi, req, model, worst, &consumer, &held, res)) return Observe(Api::kOpenAi, res.status, 0);
  if (stream) {
    if (!Find(model)) {
      Charge(nullptr, consumer, 0, held);
      Fail(Api::kOpenAi, 404, "the model '" + model + "' is not being served", res, "model");
      return Observe(Api::kOpenAi, 404, 0);
    }
    return ForwardStream(model, path, req.body, include_usage, consumer, held, res);
  }
  auto u = Forward(Api::kOpenAi, model, "POST", path, req, res);
  const bool ok = u && res.status == 200;
  Charge(ok ? u.get() : nullptr, consumer, ok ? ReportedTokens(res) : 0, held);
  Observe(Api::kOpenAi, res.status, SecondsSince(t0));
}

void Gateway::InstallOpenAi(httplib::Server* http) {
  http->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<serve::ListedModel> list;
    for (const auto& r : Replicas()) {
      if (std::none_of(list.begin(), list.end(), [&](const auto& m) { return m.id == r.model; })) list.push_back(Listed(r));
    }
    res.set_content(serve::ModelList(list), kJson);
  });
  http->Get(R"(/v1/models/([^/]{1,256}))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string id = req.matches[1];
    for (const auto& r : Replicas()) {
      if (r.model == id) return res.set_content(serve::ModelObject(Listed(r)), kJson);
    }
    Fail(Api::kOpenAi, 404, "the model '" + id + "' does not exist or is not being served", res, "model");
  });
  auto bad_request = [this](const Status& s, httplib::Response& res) {
    errors_->Increment();
    res.status = 400;
    res.set_content(serve::OpenAiInvalidRequest(s), kJson);
    Observe(Api::kOpenAi, 400, 0);
  };
  http->Post("/v1/completions", [this, bad_request](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    const int64_t t0 = clock_->MonotonicNanos();
    auto parsed = serve::ParseCompletionRequest(req.body);
    if (!parsed.ok()) return bad_request(parsed.status(), res);
    ServeOpenAi(req, res, "/v1/completions", parsed->model, parsed->WorstCaseTokens(), parsed->stream, parsed->include_usage, t0);
  });
  http->Post("/v1/chat/completions", [this, bad_request](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    const int64_t t0 = clock_->MonotonicNanos();
    auto parsed = serve::ParseChatRequest(req.body);
    if (!parsed.ok()) return bad_request(parsed.status(), res);
    ServeOpenAi(req, res, "/v1/chat/completions", parsed->model, parsed->WorstCaseTokens(), parsed->stream,
                parsed->include_usage, t0);
  });
}

void Gateway::InstallKServe(httplib::Server* http) {
  http->Get("/v2", [](const httplib::Request&, httplib::Response& res) { res.set_content(serve::ServerMetadata(), kJson); });
  http->Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"live\":true}", kJson); });
  http->Get("/v2/health/ready", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ready\":true}", kJson); });
  http->Get(KServeRoute(""), [this](const httplib::Request& req, httplib::Response& res) {
    const std::string model = req.matches[1];
    Forward(Api::kKServe, model, "GET", req.path, req, res);
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
  for (const char* suffix : {"/ready", "/config"}) {
    http->Get(KServeRoute(suffix), [this](const httplib::Request& req, httplib::Response& res) {
      Forward(Api::kKServe, req.matches[1], "GET", req.path, req, res);
    });
  }
  http->Post(KServeRoute("/infer"), [this](const httplib::Request& req, httplib::Response& res) {
    requests_.fetch_add(1);
    const int64_t t0 = clock_->MonotonicNanos();
    const std::string model = req.matches[1];
    // A text model's prompts and max_tokens bound what it may cost.
    uint64_t worst = 0;
    auto found = Find(model);
    const bool text = found && found->info.task == "text-generation";
    if (text) {
      auto parsed = serve::ParseInferRequest(req.body, req.get_header_value(serve::kInferenceHeaderLength));
      if (!parsed.ok()) {
        Fail(Api::kKServe, 400, std::string(parsed.status().message()), res);
        return Observe(Api::kKServe, 400, 0);
      }
      for (const auto& s : parsed->strings) worst += s.size() + static_cast<uint64_t>(parsed->generate.max_tokens);
    }
    std::string consumer;
    uint64_t held = 0;
    if (!Authorize(Api::kKServe, req, model, worst, &consumer, &held, res)) return Observe(Api::kKServe, res.status, 0);
    auto u = Forward(Api::kKServe, model, "POST", req.path, req, res);
    const bool ok = u && res.status == 200;
    Charge(ok ? u.get() : nullptr, consumer, ok && text ? ReportedTokens(res) : 0, held);
    Observe(Api::kKServe, res.status, SecondsSince(t0));
  });
}

}  // namespace cairn::scheduler
