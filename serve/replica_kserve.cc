// The replica's KServe v2 routes (serve/kserve_api.h has the protocol):
// server and model metadata, Triton's model configuration, readiness, and
// inference with JSON or binary tensors; `/versions/1` forms alike.
#include <httplib.h>

#include "serve/kserve_api.h"
#include "serve/kserve_binary.h"
#include "serve/replica_internal.h"
#include "serve/replica_server.h"

namespace cairn::serve {

using internal::kJson;

namespace {

constexpr int kMaxTextElements = 16;  // prompts per text request, as OpenAI's n x prompts

// A model route with an optional version: /v2/models/NAME[/versions/V]SUFFIX.
std::string ModelRoute(const std::string& suffix) { return R"(/v2/models/([^/]+)(?:/versions/([^/]+))?)" + suffix; }

}  // namespace

void ReplicaServer::KServeRoutes() {
  const std::string name = options_.model_name;
  const ModelInfo& info = model_->info();
  const int64_t max_batch = options_.max_batch;
  auto error = [](httplib::Response& res, int status, const std::string& message) {
    res.status = status;
    res.set_content(KServeError(message), kJson);
  };
  // The route names this replica's model (and version 1, if any).
  auto known = [name, error](const httplib::Request& req, httplib::Response& res) {
    if (req.matches[1] != name) {
      error(res, 404, "no model '" + std::string(req.matches[1]) + "' here");
      return false;
    }
    if (req.matches[2].matched && req.matches[2] != "1") {
      error(res, 404, "model '" + name + "' has no version '" + std::string(req.matches[2]) + "' (versions: 1)");
      return false;
    }
    return true;
  };
  http_->Get("/v2", [](const httplib::Request&, httplib::Response& res) { res.set_content(ServerMetadata(), kJson); });
  http_->Get(ModelRoute(""), [=, &info](const httplib::Request& req, httplib::Response& res) {
    if (known(req, res)) res.set_content(ModelMetadata(name, info), kJson);
  });
  http_->Get(ModelRoute("/ready"), [=, this](const httplib::Request& req, httplib::Response& res) {
    if (known(req, res)) res.set_content("{\"name\":\"" + name + "\",\"ready\":true}", kJson);
  });
  http_->Get(ModelRoute("/config"), [=, &info](const httplib::Request& req, httplib::Response& res) {
    if (known(req, res)) res.set_content(ModelConfig(name, info, max_batch), kJson);
  });
  http_->Post(ModelRoute("/infer"), [=, this, &info](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    auto fail = [&](int status, const std::string& message) {
      ++errors_;
      error(res, status, message);
    };
    if (!known(req, res)) return void(++errors_);
    auto parsed = ParseInferRequest(req.body, req.get_header_value(kInferenceHeaderLength));
    if (!parsed.ok()) return fail(400, std::string(parsed.status().message()));
    const bool text = info.task == ModelTask::kTextGeneration;
    const std::string output = OutputName(info);
    if (!parsed->output_name.empty() && parsed->output_name != output) {
      return fail(400, "outputs[0].name: '" + parsed->output_name + "' is not an output of '" + name + "' (" + output + ")");
    }
    InferReply reply;
    if (!text) {
      if (parsed->datatype == "BYTES") return fail(400, "inputs[0].datatype: '" + name + "' takes numbers, not BYTES");
      if (parsed->generation_parameters) return fail(400, "parameters: generation parameters are for text models only");
      auto out = batcher_.Run(std::move(parsed->input));
      if (!out.ok()) return fail(HttpStatusOf(out.status()), std::string(out.status().message()));
      reply = InferResponse(name, parsed->id, *out, parsed->binary_output);
    } else {
      if (parsed->datatype != "BYTES") {
        return fail(400, "inputs[0].datatype: '" + name + "' is a text model: send prompts as BYTES");
      }
      if (parsed->strings.size() > kMaxTextElements) {
        return fail(400, "inputs[0].shape: at most " + std::to_string(kMaxTextElements) + " prompts per request");
      }
      OutputTensor out{output, "BYTES", parsed->input.shape, {}, {}};
      InferUsage usage;
      for (size_t i = 0; i < parsed->strings.size(); ++i) {
        GenerateOptions o = parsed->generate;
        if (o.seed) *o.seed += i;  // reproducible, yet each prompt its own draw
        auto g = model_->Generate(parsed->strings[i], o);
        if (!g.ok()) return fail(HttpStatusOf(g.status()), std::string(g.status().message()));
        usage.prompt_tokens += g->prompt_tokens;
        usage.completion_tokens += g->completion_tokens;
        out.strings.push_back(std::move(g->text));
      }
      tokens_ += static_cast<uint64_t>(usage.completion_tokens);
      reply = InferResponse(name, parsed->id, out, parsed->binary_output, usage);
    }
    if (reply.header_length) {
      res.set_header(kInferenceHeaderLength, std::to_string(*reply.header_length));
      res.set_content(std::move(reply.body), "application/octet-stream");
    } else {
      res.set_content(std::move(reply.body), kJson);
    }
  });
}

}  // namespace cairn::serve
