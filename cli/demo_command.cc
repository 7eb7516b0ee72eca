// cairn demo: the whole system on one machine, over loopback, as separate
// processes: a coordinator and two workers; Fashion-MNIST (alice) and a
// fortunes corpus (bob) registered by two contributors; a classifier and a
// small char-gpt trained; both served; a consumer (carol) with an API key
// and credits sends images through KServe v2 and prompts through the OpenAI
// API; then the ledger's checkpoint, a full verification, and the payouts.
// Every process it starts dies with it (Ctrl-C included).
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "cli/commands.h"
#include "data/builder.h"
#include "runtime/base/subprocess.h"
#include "runtime/base/temp_dir.h"

namespace cairn::cli {
namespace {

using nlohmann::json;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";
constexpr char kFortunes[] = "/usr/share/games/fortunes/fortunes";
constexpr int kSteps = 9;
const char* kLabels[] = {"T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};

std::atomic<bool> g_interrupted{false};
void OnInterrupt(int) { g_interrupted = true; }

struct DemoOptions {
  bool keep = false;
  int classifier_steps = 1200, gpt_steps = 1500;
};

class Demo {
 public:
  explicit Demo(const DemoOptions& o) : o_(o), tmp_("cairn-demo"), t0_(std::chrono::steady_clock::now()) {
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    binary_ = n > 0 ? std::string(self, static_cast<size_t>(n)) : "cairn";
    bus_ = FreePort();
    http_ = FreePort();
  }
  Status Run();
  // Workers first, then the coordinator, each asked to stop cleanly (the
  // coordinator then stops its rendezvous host); what does not stop within
  // 10 s is killed.
  ~Demo() {
    for (auto it = procs_.rbegin(); it != procs_.rend(); ++it) (*it)->Stop(10'000);
  }

 private:
  void Step(int n, const std::string& what) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    std::printf("\n[%d/%d] %s  (%.0f s)\n", n, kSteps, what.c_str(), s);
  }
  std::vector<std::string> Env(const std::string& home) {
    return {"/usr/bin/env", "CAIRN_HOME=" + tmp_.path() + "/" + home, "CAIRN_LOG_LEVEL=warn", binary_};
  }
  // Runs a client verb as `home`; its output, indented.
  StatusOr<std::string> Cairn(const std::string& home, std::vector<std::string> args, bool echo = true) {
    if (g_interrupted) return CancelledError("interrupted");
    auto argv = Env(home);
    argv.insert(argv.end(), args.begin(), args.end());
    if (args[0] != "ledger") {  // ledger verbs take the read API's URL instead
      argv.insert(argv.end(), {"--coordinator", "127.0.0.1:" + std::to_string(bus_), "--coordinator-http", std::to_string(http_)});
    }
    Subprocess p(argv, /*merge_stderr=*/true);
    std::string out = p.ReadAll();
    const int code = p.Wait();
    if (echo) {
      size_t at = 0;
      while (at < out.size()) {
        const size_t end = out.find('\n', at);
        const std::string line = out.substr(at, end - at);
        const bool partial_progress = line.find("upload [") != std::string::npos && line.find("#.") != std::string::npos;
        if (line.find("pinned coordinator") == std::string::npos && line.find("created your identity") == std::string::npos &&
            line.find("trusting the server") == std::string::npos && !partial_progress) {
          std::printf("    %s\n", line.c_str());
        }
        if (end == std::string::npos) break;
        at = end + 1;
      }
    }
    if (code != 0) return InternalError("cairn " + args[0] + " failed (exit " + std::to_string(code) + "):\n" + out);
    return out;
  }
  static json JsonIn(const std::string& out) {
    const size_t at = out.find_first_of("{[");
    return json::parse(at == std::string::npos ? out : out.substr(at), nullptr, false);
  }
  Status WaitFor(const std::string& job, const std::string& what, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (g_interrupted) return CancelledError("interrupted");
      ASSIGN_OR_RETURN(std::string logs, Cairn("engineer", {"logs", job}, false));
      if (logs.find(what) != std::string::npos) return OkStatus();
      for (const char* end : {"job failed", "job cancelled", "budget exhausted"}) {  // the coordinator logs every terminal failure
        if (logs.find(end) != std::string::npos) return InternalError("job " + job + " ended (" + end + "):\n" + logs);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return DeadlineExceededError("job " + job + " did not reach '" + what + "' in " + std::to_string(seconds) + " s");
  }
  StatusOr<std::string> Submit(const std::string& name, const std::string& yaml) {
    const std::string path = tmp_.path() + "/" + name + ".yaml";
    std::ofstream(path) << yaml;
    ASSIGN_OR_RETURN(std::string out, Cairn("engineer", {"submit", path, "--json"}, false));
    json j = JsonIn(out);
    if (!j.is_object() || !j.contains("id")) return InternalError("submit printed no job id: " + out);
    std::printf("    submitted %s\n", j["id"].get<std::string>().c_str());
    return j["id"].get<std::string>();
  }

  DemoOptions o_;
  ScopedTempDir tmp_;
  std::chrono::steady_clock::time_point t0_;
  std::string binary_;
  int bus_ = 0, http_ = 0;
  std::vector<std::unique_ptr<Subprocess>> procs_;
};

Status Demo::Run() {
  if (tmp_.path().empty()) return InternalError("cannot create a directory under /tmp");
  if (o_.keep) tmp_.Keep();
  for (const char* need : {kFashion, kFortunes}) {
    if (access(need, R_OK) != 0) return NotFoundError(std::string(need) + " is missing: run scripts/setup (it installs dataset-fashion-mnist and fortunes-min)");
  }
  std::printf("cairn demo: everything runs on this machine over loopback, in %s%s\n", tmp_.path().c_str(),
              o_.keep ? " (kept)" : " (removed at the end)");

  Step(1, "starting a coordinator and two workers");
  auto coord = Env("operator");
  coord.insert(coord.end(), {"coordinator", "--data-dir", tmp_.path() + "/coordinator", "--bus",
                             "tcp://127.0.0.1:" + std::to_string(bus_), "--http", "127.0.0.1:" + std::to_string(http_),
                             "--heartbeat-ms", "250"});
  procs_.push_back(std::make_unique<Subprocess>(coord));
  std::string line;
  if (!procs_.back()->ReadLine(&line, 20000) || line != "coordinator ready") {
    return UnavailableError("the coordinator did not start: " + line);
  }
  std::printf("    coordinator: bus 127.0.0.1:%d, HTTP (ledger, gateway, metrics) 127.0.0.1:%d\n", bus_, http_);
  for (const char* w : {"gpu-owner-1", "gpu-owner-2"}) {
    auto argv = Env(w);
    argv.insert(argv.end(), {"worker", "--name", w, "--threads", "1", "--measure-seconds", "0", "--price-per-hour", "3", "--coordinator",
                             "127.0.0.1:" + std::to_string(bus_), "--coordinator-http", std::to_string(http_)});
    procs_.push_back(std::make_unique<Subprocess>(argv, true));
  }
  for (int i = 0;; ++i) {
    ASSIGN_OR_RETURN(std::string out, Cairn("engineer", {"workers", "--json"}, false));
    json j = JsonIn(out);
    if (j.is_array() && j.size() == 2) break;
    if (i > 40) return UnavailableError("the workers did not join: " + out);
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  std::printf("    2 workers joined\n");

  Step(2, "two contributors register datasets (chunked, hashed, signed into the ledger)");
  RETURN_IF_ERROR(Cairn("alice", {"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT",
                                  "--price-per-1k", "0.01"}).status());
  RETURN_IF_ERROR(Cairn("bob", {"dataset", "add", kFortunes, "--name", "fortunes", "--format", "text", "--license",
                                "BSD-4-Clause", "--price-per-1k", "0.0001"}).status());  // a text sample is a token

  Step(3, "the engineer buys 10 credits; each training job holds its budget in escrow and pays per round");
  ASSIGN_OR_RETURN(std::string eng_out, Cairn("engineer", {"accounts", "create", "--json"}, false));
  const std::string engineer = JsonIn(eng_out).value("account", "");
  RETURN_IF_ERROR(Cairn("operator", {"accounts", "credit", engineer, "10", "--memo", "demo credits", "--key",
                                     tmp_.path() + "/coordinator/log.key"}).status());
  std::printf("    training a Fashion-MNIST classifier and a small char-gpt, one on each worker; each worker's rounds\n"
              "    are replayed bit for bit by the other (docs/verification.md) and its pay held until they are\n");
  ASSIGN_OR_RETURN(std::string fm_job, Submit("classifier", "name: classifier\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
                                                          "hyperparameters: {steps: " + std::to_string(o_.classifier_steps) +
                                                          ", round_steps: 400}\nbudget: 2\noutput: {model: fashion-classifier, license: MIT}\n"));
  ASSIGN_OR_RETURN(std::string gpt_job, Submit("gpt", "name: fortune-gpt\nkind: train\nmodel: char-gpt\ndatasets: [fortunes]\n"
                                                      "hyperparameters: {steps: " + std::to_string(o_.gpt_steps) +
                                                      ", round_steps: 100, layers: 2, heads: 2, width: 64, context: 64, batch_size: 16, lr: 0.003}\n"
                                                      "budget: 2\noutput: {model: fortune-gpt, license: BSD-4-Clause}\n"));
  RETURN_IF_ERROR(WaitFor(fm_job, "job succeeded", 600));
  ASSIGN_OR_RETURN(std::string fm_logs, Cairn("engineer", {"logs", fm_job}, false));
  const size_t acc = fm_logs.rfind("test accuracy");
  std::printf("    classifier: %s\n", acc == std::string::npos ? "done" : fm_logs.substr(acc, fm_logs.find(';', acc) - acc).c_str());
  RETURN_IF_ERROR(WaitFor(gpt_job, "job succeeded", 600));
  ASSIGN_OR_RETURN(std::string gpt_logs, Cairn("engineer", {"logs", gpt_job}, false));
  const size_t vl = gpt_logs.rfind("validation loss");
  std::printf("    char-gpt: %s\n", vl == std::string::npos ? "done" : gpt_logs.substr(vl, gpt_logs.find(';', vl) - vl).c_str());
  RETURN_IF_ERROR(Cairn("engineer", {"models", "list"}).status());

  Step(4, "serving both models (kind: serve), priced per request and per 1,000 tokens");
  ASSIGN_OR_RETURN(std::string serve_fm, Submit("serve-classifier", "name: serve-classifier\nkind: serve\nmodel: fashion-classifier\n"
                                                                  "price: {per_request: 0.001}\n"));
  ASSIGN_OR_RETURN(std::string serve_gpt, Submit("serve-gpt", "name: serve-gpt\nkind: serve\nmodel: fortune-gpt\n"
                                                             "price: {per_1k_tokens: 0.05}\n"));
  RETURN_IF_ERROR(WaitFor(serve_fm, "] serving fashion-classifier", 60));
  RETURN_IF_ERROR(WaitFor(serve_gpt, "] serving fortune-gpt", 60));
  std::printf("    replicas up; the gateway is http://127.0.0.1:%d (/v1 OpenAI, /v2 KServe)\n", http_);

  Step(5, "a consumer: account, API key, and 1 credit from the operator (signed, in the ledger)");
  ASSIGN_OR_RETURN(std::string acct_out, Cairn("carol", {"accounts", "create", "--json"}, false));
  const std::string carol = JsonIn(acct_out).value("account", "");
  std::printf("    carol's account %s\n", carol.substr(0, 16).c_str());
  ASSIGN_OR_RETURN(std::string key_out, Cairn("carol", {"keys", "api", "new", "--name", "demo", "--json"}, false));
  const std::string key = JsonIn(key_out).value("key", "");
  std::printf("    API key %s...\n", key.substr(0, 16).c_str());
  RETURN_IF_ERROR(Cairn("operator", {"accounts", "credit", carol, "1", "--memo", "demo credits", "--key",
                                     tmp_.path() + "/coordinator/log.key"}).status());

  Step(6, "KServe v2: classifying 12 test images through the gateway");
  ASSIGN_OR_RETURN(data::BuiltDataset built, data::BuildDataset(kFashion, data::Format::kIdx));
  const std::string& test = built.chunks[built.manifest.splits[0].chunks.size()];
  httplib::Client http("127.0.0.1", http_);
  http.set_read_timeout(30, 0);
  http.set_bearer_token_auth(key);
  int right = 0;
  for (int i = 0; i < 12; ++i) {
    const auto* rec = reinterpret_cast<const unsigned char*>(test.data()) + i * 785;
    json pixels = json::array();
    for (int p = 0; p < 784; ++p) pixels.push_back(rec[1 + p] / 255.0);
    json req = {{"inputs", {{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"}, {"data", pixels}}}}};
    auto res = http.Post("/v2/models/fashion-classifier/infer", req.dump(), "application/json");
    if (!res || res->status != 200) return InternalError("KServe request failed: " + (res ? res->body : std::string("no answer")));
    auto logits = json::parse(res->body)["outputs"][0]["data"].get<std::vector<float>>();
    const int guess = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    right += guess == rec[0];
    std::printf("    image %2d: %-9s %s %s\n", i, kLabels[guess], guess == rec[0] ? "  right" : "  wrong, it is a", guess == rec[0] ? "" : kLabels[rec[0]]);
  }
  std::printf("    %d of 12 right\n", right);

  Step(7, "OpenAI completions through the gateway (plain, then streamed)");
  auto plain = http.Post("/v1/completions", R"({"model": "fortune-gpt", "prompt": "The ", "max_tokens": 60, "temperature": 0.8, "seed": 7})",
                         "application/json");
  if (!plain || plain->status != 200) return InternalError("completion failed: " + (plain ? plain->body : std::string("no answer")));
  auto pj = json::parse(plain->body);
  std::printf("    \"The %s\"\n    usage: %s\n", pj["choices"][0]["text"].get<std::string>().c_str(), pj["usage"].dump().c_str());
  std::printf("    streamed: \"Life ");
  std::fflush(stdout);
  httplib::Request sreq;
  sreq.method = "POST";
  sreq.path = "/v1/completions";
  sreq.body = R"({"model": "fortune-gpt", "prompt": "Life ", "max_tokens": 60, "temperature": 0.8, "seed": 3, "stream": true})";
  sreq.set_header("Content-Type", "application/json");
  sreq.set_header("Authorization", "Bearer " + key);
  std::string pending;
  sreq.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    pending.append(data, n);
    size_t end;
    while ((end = pending.find("\n\n")) != std::string::npos) {
      const std::string ev = pending.substr(0, end);
      pending.erase(0, end + 2);
      if (ev.rfind("data: {", 0) != 0) continue;
      auto c = json::parse(ev.substr(6), nullptr, false);
      if (c.is_object() && !c["choices"].empty()) std::printf("%s", c["choices"][0]["text"].get<std::string>().c_str());
      std::fflush(stdout);
    }
    return true;
  };
  httplib::Response sres;
  httplib::Error serr = httplib::Error::Success;
  httplib::Client stream_client("127.0.0.1", http_);
  if (!stream_client.send(sreq, sres, serr)) return InternalError("the streamed completion failed");
  std::printf("\"\n");
  // The gateway meters into the ledger each second: wait until every charge is in it.
  httplib::Client metrics_client("127.0.0.1", http_);
  for (int i = 0;; ++i) {
    auto m = metrics_client.Get("/metrics");
    if (m && m->status == 200 && m->body.find("\ncairn_inference_unrecorded_micros 0\n") != std::string::npos) break;
    if (i > 150) return DeadlineExceededError("the metered usage did not reach the ledger in 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }

  Step(8, "the ledger: its signed checkpoint, then a full replay that checks every hash, signature and balance");
  RETURN_IF_ERROR(Cairn("auditor", {"ledger", "checkpoint", "--url", "http://127.0.0.1:" + std::to_string(http_)}).status());
  RETURN_IF_ERROR(Cairn("auditor", {"ledger", "verify", "http://127.0.0.1:" + std::to_string(http_), "--summary"}).status());
  RETURN_IF_ERROR(Cairn("auditor", {"workers"}).status());

  Step(9, "payouts, replayed from the verified ledger: data contributors, compute providers, model authors");
  RETURN_IF_ERROR(Cairn("auditor", {"payouts"}).status());
  RETURN_IF_ERROR(Cairn("carol", {"accounts", "show"}).status());
  RETURN_IF_ERROR(Cairn("engineer", {"accounts", "show"}).status());
  std::printf("\ncairn demo: done in %.0f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count());
  return OkStatus();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo", "Run cairn end to end on this machine: train, serve, pay, audit (a few minutes)");
  demo->add_flag("--keep", o->keep, "Keep the demo's directory (keys, ledger, logs)");
  demo->add_option("--classifier-steps", o->classifier_steps, "Training steps for the classifier")->capture_default_str();
  demo->add_option("--gpt-steps", o->gpt_steps, "Training steps for the char-gpt")->capture_default_str();
  demo->callback([o, exit_code] {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::signal(SIGINT, OnInterrupt);
    std::signal(SIGTERM, OnInterrupt);
    Status s;
    {
      Demo d(*o);  // its processes are killed when it goes
      s = d.Run();
    }
    *exit_code = ReportStatus(s);
  });
}

}  // namespace cairn::cli
