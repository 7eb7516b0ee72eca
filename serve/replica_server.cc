#include "serve/replica_server.h"

#include <chrono>
#include <random>

#include <httplib.h>

#include "serve/kserve_api.h"
#include "serve/openai_api.h"

namespace cairn::serve {
namespace {

constexpr char kJson[] = "application/json";

int64_t UnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string RandomId(const char* prefix) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(prefix) + buf;
}

}  // namespace

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
  int port = options_.port;
  if (port == 0) {
    port = http_->bind_to_any_port(options_.host);
  } else if (!http_->bind_to_port(options_.host, port)) {
    port = -1;
  }
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
  const std::string name = options_.model_name;
  const ModelInfo& info = model_->info();
  http_->Get("/v2/health/live", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"live\":true}", kJson); });
  http_->Get("/v2/health/ready", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ready\":true}", kJson); });
  auto known = [name](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] == name) return true;
    res.status = 404;
    res.set_content(KServeError("no model '" + std::string(req.matches[1]) + "' here"), kJson);
    return false;
  };
  http_->Get(R"(/v2/models/([^/]+))", [=, &info](const httplib::Request& req, httplib::Response& res) {
    if (known(req, res)) res.set_content(ModelMetadata(name, info), kJson);
  });
  http_->Get(R"(/v2/models/([^/]+)/ready)", [=](const httplib::Request& req, httplib::Response& res) {
    if (known(req, res)) res.set_content("{\"name\":\"" + name + "\",\"ready\":true}", kJson);
  });
  http_->Post(R"(/v2/models/([^/]+)/infer)", [=](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    if (!known(req, res)) {
      ++errors_;
      return;
    }
    auto parsed = ParseInferRequest(req.body);
    StatusOr<FloatTensor> out = parsed.ok() ? batcher_.Run(std::move(parsed->input)) : StatusOr<FloatTensor>(parsed.status());
    if (!out.ok()) {
      ++errors_;
      res.status = HttpStatusOf(out.status());
      res.set_content(KServeError(std::string(out.status().message())), kJson);
      return;
    }
    res.set_content(InferResponse(name, parsed->id, *out), kJson);
  });
  http_->Get("/v1/models", [=](const httplib::Request&, httplib::Response& res) {
    res.set_content(ModelList({{name, "cairn", UnixSeconds(), "", 0, 0, 0}}), kJson);
  });
  http_->Post("/v1/completions", [=, &info](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    auto fail = [&](int status, const std::string& message, const std::string& param = "") {
      ++errors_;
      res.status = status;
      res.set_content(OpenAiError(message, OpenAiErrorType(status), param), kJson);
    };
    auto parsed = ParseCompletionRequest(req.body);
    if (!parsed.ok()) {
      ++errors_;
      res.status = 400;
      res.set_content(OpenAiInvalidRequest(parsed.status()), kJson);
      return;
    }
    if (parsed->model != name) return fail(404, "the model '" + parsed->model + "' does not exist", "model");
    if (info.task != ModelTask::kTextGeneration) {
      return fail(400, "'" + name + "' is a " + ModelTaskName(info.task) + " model; use /v2/models/" + name + "/infer", "model");
    }
    const std::string id = RandomId("cmpl-");
    const int64_t created = UnixSeconds();
    if (!parsed->stream) {
      auto g = model_->Generate(parsed->prompt, parsed->options);
      if (!g.ok()) return fail(HttpStatusOf(g.status()), std::string(g.status().message()));
      tokens_ += static_cast<uint64_t>(g->completion_tokens);
      res.set_content(CompletionResponse(id, created, name, *g), kJson);
      return;
    }
    CompletionRequest r = *parsed;
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider("text/event-stream", [this, r, id, created, name](size_t, httplib::DataSink& sink) {
      auto send = [&](const std::string& data) { return sink.write(("data: " + data + "\n\n").data(), data.size() + 8); };
      auto g = model_->Generate(r.prompt, r.options, [&](const std::string& piece) {
        return send(CompletionChunk(id, created, name, piece, ""));
      });
      if (g.ok()) {
        tokens_ += static_cast<uint64_t>(g->completion_tokens);
        send(CompletionChunk(id, created, name, "", g->finish_reason));
        if (r.include_usage) send(UsageChunk(id, created, name, g->prompt_tokens, g->completion_tokens));
      } else {
        ++errors_;
        send(OpenAiError(std::string(g.status().message()), "server_error"));
      }
      send("[DONE]");
      sink.done();
      return true;
    });
  });
}

}  // namespace cairn::serve
