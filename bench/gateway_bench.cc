// Gateway overhead: KServe v2 requests for the Fashion-MNIST MLP, sent to a
// serving replica directly and through the coordinator's gateway (API-key
// auth, credit check, least-outstanding routing, pooled keep-alive
// connection, metering), in the same run.
//   (1) open loop at a fixed rate (default 1,000 requests/s), latency
//       measured from each request's scheduled time (no coordinated
//       omission): p50/p99 direct and via the gateway, and the difference;
//   (2) closed loop, many connections: the most requests/s through the
//       gateway, and directly, for the ratio;
//   (3) the same with binary tensors (Triton's binary tensor extension, in
//       and out), with the request and response sizes of both encodings.
//   build/bench/gateway_bench [seconds=5] [rate=1000] [connections=32]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/http_listen.h"
#include "scheduler/gateway.h"
#include "serve/kserve_binary.h"
#include "serve/replica_server.h"
#include "train/models.h"

namespace {

using namespace cairn;
using Clock = std::chrono::steady_clock;

constexpr char kKey[] = "cairn-sk-000000000000000000000000000000000000000000000001";

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct OpenLoop {
  std::vector<double> latency_ms;
  uint64_t errors = 0;
};

// `rate` requests/s spread over 4 senders, each on its own connection.
OpenLoop RunOpenLoop(int port, const std::string& body, double seconds, double rate) {
  constexpr int kSenders = 4;
  std::vector<OpenLoop> parts(kSenders);
  std::vector<std::thread> threads;
  const auto start = Clock::now() + std::chrono::milliseconds(50);
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_bearer_token_auth(kKey);
      const auto interval = std::chrono::duration<double>(kSenders / rate);
      const int n = static_cast<int>(seconds * rate / kSenders);
      for (int i = 0; i < n; ++i) {
        const auto due = start + std::chrono::duration_cast<Clock::duration>(interval * i + interval * s / kSenders);
        std::this_thread::sleep_until(due);
        auto r = c.Post("/v2/models/fm/infer", body, "application/json");
        if (!r || r->status != 200) ++parts[s].errors;
        parts[s].latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  OpenLoop all;
  for (auto& p : parts) {
    all.latency_ms.insert(all.latency_ms.end(), p.latency_ms.begin(), p.latency_ms.end());
    all.errors += p.errors;
  }
  return all;
}

// A request body and the headers that frame it (binary tensors follow a
// JSON header of header_length bytes).
struct Payload {
  std::string body;
  std::string header_length;  // "" for JSON
  std::string content_type = "application/json";
};

double RunClosedLoop(int port, const Payload& p, double seconds, int connections, uint64_t* errors) {
  std::atomic<uint64_t> done{0}, bad{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", port);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_bearer_token_auth(kKey);
      httplib::Headers headers;
      if (!p.header_length.empty()) headers.emplace(serve::kInferenceHeaderLength, p.header_length);
      while (!stop) {
        const auto sent = Clock::now();
        auto r = c.Post("/v2/models/fm/infer", headers, p.body, p.content_type);
        if (r && r->status == 200) {
          ++done;
        } else if (bad++ < 3) {  // say why, for the first few
          std::fprintf(stderr, "error after %.3f s: %s\n", std::chrono::duration<double>(Clock::now() - sent).count(),
                       r ? (std::to_string(r->status) + " " + r->body.substr(0, 200)).c_str()
                         : httplib::to_string(r.error()).c_str());
        }
      }
    });
  }
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  *errors = bad.load();
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 5;
  const double rate = argc > 2 ? std::atof(argv[2]) : 1000;
  const int connections = argc > 3 ? std::atoi(argv[3]) : 32;

  train::TrainConfig cfg;
  cfg.model = "mlp";
  auto built = train::BuildModel(cfg, train::ModelShape{});
  auto ts = built.ok() ? (*built)->ExportTorchScript() : StatusOr<std::string>(built.status());
  auto loaded = ts.ok() ? serve::InferenceModel::Load(*ts) : StatusOr<std::unique_ptr<serve::InferenceModel>>(ts.status());
  if (!loaded.ok()) {
    std::printf("model: %s\n", loaded.status().ToString().c_str());
    return 1;
  }
  std::shared_ptr<const serve::InferenceModel> model(std::move(*loaded));
  serve::ReplicaServer replica(model, serve::ReplicaOptions{"fm", "127.0.0.1", 0, 32});
  auto replica_port = replica.Start();
  if (!replica_port.ok()) return 1;

  scheduler::Gateway gateway;
  gateway.SetAccounting(
      [](const std::string& key) -> StatusOr<std::string> {
        if (key != kKey) return NotFoundError("unknown API key");
        return std::string(32, 'c');
      },
      [](const std::string&) { return int64_t{1} << 50; });
  scheduler::ReplicaInfo info;
  info.model = "fm";
  info.task = "image-classification";
  info.job_id = "serve-fm";
  info.worker_id = "w1";
  info.host = "127.0.0.1";
  info.port = *replica_port;
  info.worker_key = std::string(32, 'w');
  info.model_hash = std::string(32, 'm');
  info.per_request_micros = 1000;
  gateway.AddReplica(info);
  httplib::Server http;
  gateway.Install(&http);
  const int gateway_port = BindHttpServer(&http, "127.0.0.1", 0);
  std::thread server([&] { http.listen_after_bind(); });

  nlohmann::json pixels = nlohmann::json::array();
  for (int p = 0; p < 784; ++p) pixels.push_back((p % 97) / 97.0);
  const std::string body =
      nlohmann::json{{"inputs", {{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"}, {"data", pixels}}}}}.dump();
  std::printf("KServe v2 infer, Fashion-MNIST MLP (784-256-128-10), %zu-byte request; %u hardware threads\n", body.size(),
              std::thread::hardware_concurrency());

  // Warm up both paths, then alternate direct / gateway twice.
  std::fflush(stdout);
  auto w1 = RunOpenLoop(*replica_port, body, 0.5, rate);
  std::fprintf(stderr, "warm-up direct: %zu requests, %llu errors\n", w1.latency_ms.size(), static_cast<unsigned long long>(w1.errors));
  auto w2 = RunOpenLoop(gateway_port, body, 0.5, rate);
  std::fprintf(stderr, "warm-up gateway: %zu requests, %llu errors\n", w2.latency_ms.size(), static_cast<unsigned long long>(w2.errors));
  std::vector<double> direct, via;
  uint64_t direct_errors = 0, via_errors = 0;
  for (int rep = 0; rep < 2; ++rep) {
    auto d = RunOpenLoop(*replica_port, body, seconds / 2, rate);
    auto g = RunOpenLoop(gateway_port, body, seconds / 2, rate);
    direct.insert(direct.end(), d.latency_ms.begin(), d.latency_ms.end());
    via.insert(via.end(), g.latency_ms.begin(), g.latency_ms.end());
    direct_errors += d.errors;
    via_errors += g.errors;
  }
  std::printf("\n(1) open loop at %.0f requests/s, %.1f s per path\n", rate, seconds);
  std::printf("%-10s %10s %10s %10s %8s\n", "path", "p50 ms", "p99 ms", "p99.9 ms", "errors");
  std::printf("%-10s %10.3f %10.3f %10.3f %8llu\n", "direct", Percentile(direct, 0.5), Percentile(direct, 0.99),
              Percentile(direct, 0.999), static_cast<unsigned long long>(direct_errors));
  std::printf("%-10s %10.3f %10.3f %10.3f %8llu\n", "gateway", Percentile(via, 0.5), Percentile(via, 0.99),
              Percentile(via, 0.999), static_cast<unsigned long long>(via_errors));
  std::printf("added by the gateway: p50 %+.3f ms, p99 %+.3f ms\n", Percentile(via, 0.5) - Percentile(direct, 0.5),
              Percentile(via, 0.99) - Percentile(direct, 0.99));

  // (2) and (3): closed loop with JSON tensors, then binary ones (Triton's
  // binary tensor extension, input and output), each direct and through
  // the gateway.
  const Payload json_payload{body, "", "application/json"};
  Payload binary;
  {
    const std::string header =
        nlohmann::json{{"inputs", {{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"},
                                    {"parameters", {{"binary_data_size", 784 * 4}}}}}},
                       {"outputs", {{{"name", "logits"}, {"parameters", {{"binary_data", true}}}}}}}
            .dump();
    std::vector<float> values;
    for (int p = 0; p < 784; ++p) values.push_back(static_cast<float>((p % 97) / 97.0));
    binary.body = header;
    serve::AppendFloats(values, &binary.body);
    binary.header_length = std::to_string(header.size());
    binary.content_type = "application/octet-stream";
  }
  auto response_size = [&](const Payload& p) -> size_t {
    httplib::Client c("127.0.0.1", *replica_port);
    httplib::Headers headers;
    if (!p.header_length.empty()) headers.emplace(serve::kInferenceHeaderLength, p.header_length);
    auto r = c.Post("/v2/models/fm/infer", headers, p.body, p.content_type);
    return r && r->status == 200 ? r->body.size() : 0;
  };
  const char* titles[] = {"(2) JSON tensors", "(3) binary tensors"};
  double ratios[2] = {0, 0};
  int k = 0;
  for (const Payload* p : {&json_payload, static_cast<const Payload*>(&binary)}) {
    uint64_t e1 = 0, e2 = 0;
    const double max_direct = RunClosedLoop(*replica_port, *p, seconds, connections, &e1);
    const double max_gateway = RunClosedLoop(gateway_port, *p, seconds, connections, &e2);
    ratios[k] = max_gateway / std::max(1.0, max_direct);
    std::printf("\n%s: request %zu bytes, response %zu bytes; closed loop, %d connections, %.1f s each\n", titles[k],
                p->body.size(), response_size(*p), connections, seconds);
    std::printf("direct   %8.0f requests/s (%llu errors)\ngateway  %8.0f requests/s (%llu errors)\nratio gateway/direct %.3f\n",
                max_direct, static_cast<unsigned long long>(e1), max_gateway, static_cast<unsigned long long>(e2), ratios[k]);
    ++k;
  }
  std::printf("\nbinary request is %.1fx smaller than JSON\n", static_cast<double>(body.size()) / static_cast<double>(binary.body.size()));
  std::printf("metered %llu requests\n", static_cast<unsigned long long>(gateway.meter().requests()));
  http.stop();
  server.join();
  replica.Stop();
  return 0;
}
