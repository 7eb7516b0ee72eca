// Serving as consumers meet it: a coordinator and three `cairn worker`
// processes on loopback; a Fashion-MNIST classifier and a small char-gpt are
// trained there, then served (`kind: serve`), and real HTTP clients call the
// coordinator's gateway: KServe v2 for the classifier (the right classes for
// test images), OpenAI completions for the text model (plain and streamed).
// Requests need an API key (401 without) and credits (KServe 402, OpenAI
// 429 insufficient_quota, when they run out); what was served is metered into inferenceUsage ledger entries that
// match the requests exactly, and the payouts replayed from the verified
// ledger pay the serving workers and the models' authors. One classifier
// replica's worker is killed with SIGKILL under load and requests keep
// succeeding.
#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <functional>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "data/builder.h"
#include "tests/local_cluster.h"

namespace cairn {
namespace {

using nlohmann::json;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

class ServingSystem : public ::testing::Test, public testing::LocalCluster {
 protected:
  ServingSystem() : LocalCluster(CAIRN_BINARY, "cairn-serve") {}
  static size_t Count(const std::string& s, const std::string& what) {
    size_t n = 0;
    for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
    return n;
  }
};

json ImageRequest(const unsigned char* record) {
  json pixels = json::array();
  for (int p = 0; p < 784; ++p) pixels.push_back(record[1 + p] / 255.0);
  return {{"inputs", json::array({{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"}, {"data", pixels}}})}};
}

TEST_F(ServingSystem, GatewayServesBothApisAndSurvivesALostReplica) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  const char* shared = std::getenv("CAIRN_SHARED_DATA");
  const std::string text = std::string(shared ? shared : "../shared/data") + "/tinyshakespeare/input.txt";
  if (!std::filesystem::exists(text)) GTEST_SKIP() << "no " << text;
  auto coordinator = StartCoordinator();
  ASSERT_EQ(Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT"}, "alice-home").code, 0);
  ASSERT_EQ(Cairn({"dataset", "add", text, "--name", "shakespeare", "--format", "text", "--license", "CC0-1.0"}, "bob-home").code, 0);
  std::map<std::string, std::unique_ptr<testing::Subprocess>> workers;
  for (const char* n : {"w1", "w2", "w3"}) workers[n] = StartWorker(n, {"--threads", "1"});
  ASSERT_TRUE(WaitForWorkers(3));

  // Train both models (one worker each, at the same time).
  std::ofstream(dir() + "/fm.yaml") << "name: fm\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
                                       "hyperparameters: {steps: 800, round_steps: 400}\nbudget: 10\n"
                                       "output: {model: fm, license: MIT, terms: {finetune_fee: 0.25}}\n";
  std::ofstream(dir() + "/gpt.yaml") << "name: gpt\nkind: train\nmodel: char-gpt\ndatasets: [shakespeare]\n"
                                        "hyperparameters: {steps: 30, layers: 1, heads: 2, width: 32, context: 32, batch_size: 8}\n"
                                        "budget: 10\noutput: {model: tiny-gpt}\n";
  auto fm = Cairn({"submit", dir() + "/fm.yaml", "--json"});
  auto gpt = Cairn({"submit", dir() + "/gpt.yaml", "--follow"});
  ASSERT_EQ(gpt.code, 0) << gpt.out;
  const std::string fm_id = testing::Json(fm.out)["id"];
  ASSERT_TRUE(WaitLogs(fm_id, [](const std::string& l) { return l.find("job succeeded") != std::string::npos; }, 240)) << Logs(fm_id);

  // Serve the classifier on two workers, the text model on the third.
  const std::string serve_fm = Submit("serve-fm", "name: serve-fm\nkind: serve\nmodel: fm\nresources: {workers: 2}\n"
                                                  "price: {per_request: 0.001, worker_share: 0.5}\n");
  const std::string serve_gpt = Submit("serve-gpt", "name: serve-gpt\nkind: serve\nmodel: tiny-gpt\nprice: {per_1k_tokens: 1}\n");
  ASSERT_FALSE(serve_fm.empty() || serve_gpt.empty());
  ASSERT_TRUE(WaitLogs(serve_fm, [](const std::string& l) { return Count(l, "] serving fm") == 2; }, 60)) << Logs(serve_fm);
  ASSERT_TRUE(WaitLogs(serve_gpt, [](const std::string& l) { return Count(l, "] serving tiny-gpt") == 1; }, 60)) << Logs(serve_gpt);

  // A consumer: an account, an API key, no credits yet.
  const std::string carol = testing::Json(Cairn({"accounts", "create", "--json"}, "carol-home", false).out)["account"];
  auto key_run = Cairn({"keys", "api", "new", "--name", "test", "--json"}, "carol-home");
  ASSERT_EQ(key_run.code, 0) << key_run.out;
  const std::string key = testing::Json(key_run.out)["key"];
  httplib::Client http("127.0.0.1", http_port());
  http.set_read_timeout(30, 0);
  const std::string one_image = ImageRequest(reinterpret_cast<const unsigned char*>(std::string(785, '\1').data())).dump();
  auto anonymous = http.Post("/v2/models/fm/infer", one_image, "application/json");
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_NE(json::parse(anonymous->body)["error"].get<std::string>().find("API key"), std::string::npos);
  http.set_bearer_token_auth("cairn-sk-000000000000000000000000000000000000000000000000");
  EXPECT_EQ(http.Post("/v2/models/fm/infer", one_image, "application/json")->status, 401);
  http.set_bearer_token_auth(key);
  auto broke = http.Post("/v2/models/fm/infer", one_image, "application/json");
  EXPECT_EQ(broke->status, 402) << broke->body;
  auto broke_text = http.Post("/v1/completions", R"({"model": "tiny-gpt", "prompt": "hi"})", "application/json");
  EXPECT_EQ(broke_text->status, 429);
  EXPECT_EQ(broke_text->get_header_value("x-should-retry"), "false");
  EXPECT_EQ(json::parse(broke_text->body)["error"]["type"], "insufficient_quota");
  // Only the operator (the coordinator's log key) credits accounts.
  EXPECT_NE(Cairn({"accounts", "credit", carol, "5"}, "carol-home").code, 0);
  auto credit = Cairn({"accounts", "credit", carol, "100", "--key", dir() + "/coord/log.key", "--memo", "test"}, "operator-home");
  ASSERT_EQ(credit.code, 0) << credit.out;
  EXPECT_EQ(http.Get("/v2/health/live")->status, 200);
  EXPECT_EQ(http.Get("/v2/models/fm/ready")->status, 200);
  EXPECT_EQ(http.Get("/v2/models/nope/ready")->status, 404);
  auto models = json::parse(http.Get("/v1/models")->body);
  EXPECT_EQ(models["data"].size(), 2u) << models.dump();
  // A model's licence and terms are shown wherever it is listed.
  for (const auto& m : models["data"]) {
    if (m["id"] != "fm") continue;
    EXPECT_EQ(m["license"], "MIT") << m.dump();
    EXPECT_EQ(m["pricing"]["per_request_micros"], 1000) << m.dump();
    EXPECT_EQ(m["pricing"]["finetune_fee_micros"], 250000) << m.dump();
  }
  auto meta = json::parse(http.Get("/v2/models/fm")->body, nullptr, false);
  EXPECT_EQ(meta["parameters"]["license"], "MIT") << meta.dump();
  EXPECT_EQ(meta["parameters"]["finetune_fee_micros"], 250000) << meta.dump();
  for (const auto& m : testing::Json(Cairn({"models", "list", "--json"}).out)) {
    if (m["name"] == "fm") {
      EXPECT_EQ(m["terms"]["finetune_fee_micros"], 250000) << m.dump();
    }
  }

  // KServe v2: the first 300 test images get the right class (>= 80%).
  auto built = data::BuildDataset(kFashion, data::Format::kIdx);
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string& test_chunk = built->chunks[built->manifest.splits[0].chunks.size()];
  auto record = [&](int i) { return reinterpret_cast<const unsigned char*>(test_chunk.data()) + i * 785; };
  int correct = 0, served = 0;
  for (int i = 0; i < 300; ++i) {
    auto res = http.Post("/v2/models/fm/infer", ImageRequest(record(i)).dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto logits = json::parse(res->body)["outputs"][0]["data"].get<std::vector<float>>();
    correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == record(i)[0];
    ++served;
  }
  EXPECT_GE(correct, 240) << "800 steps of the MLP reach ~83% on Fashion-MNIST";
  auto bad = http.Post("/v2/models/fm/infer", "{\"inputs\": 3", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["error"].get<std::string>().find("JSON"), std::string::npos);

  // OpenAI completions through the gateway, plain and streamed.
  auto plain = http.Post("/v1/completions", R"({"model": "tiny-gpt", "prompt": "ROMEO:", "max_tokens": 20, "seed": 1})",
                         "application/json");
  ASSERT_EQ(plain->status, 200) << plain->body;
  ++served;
  auto pj = json::parse(plain->body);
  EXPECT_EQ(pj["usage"]["completion_tokens"], 20);
  auto streamed = http.Post("/v1/completions",
                            R"({"model": "tiny-gpt", "prompt": "ROMEO:", "max_tokens": 20, "seed": 1, "stream": true})",
                            "application/json");
  ASSERT_EQ(streamed->status, 200);
  ++served;
  std::string joined;
  for (size_t at = 0; (at = streamed->body.find("data: {", at)) != std::string::npos; ++at) {
    auto c = json::parse(streamed->body.substr(at + 6, streamed->body.find("\n\n", at) - at - 6));
    if (!c["choices"].empty()) joined += c["choices"][0]["text"].get<std::string>();
  }
  EXPECT_EQ(joined, pj["choices"][0]["text"]) << streamed->body;
  EXPECT_NE(streamed->body.rfind("data: [DONE]\n\n"), std::string::npos);
  auto notjson = http.Post("/v1/completions", "{\"model\":", "application/json");
  EXPECT_EQ(notjson->status, 400);
  EXPECT_EQ(json::parse(notjson->body)["error"]["type"], "invalid_request_error");
  auto unknown = http.Post("/v1/completions", R"({"model": "gpt-4", "prompt": "hi"})", "application/json");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(json::parse(unknown->body)["error"]["param"], "model");

  // Load from 4 clients; one classifier replica's worker dies mid-way. The
  // gateway retries on the other replica: no request fails.
  const std::string victim = [&] {
    const std::string l = Logs(serve_fm);
    for (const auto& [name, id] : ids_) {
      if (name != "w3" && l.find("[" + id.substr(0, 8) + "] serving fm") != std::string::npos) return name;
    }
    return std::string();
  }();
  ASSERT_FALSE(victim.empty()) << Logs(serve_fm);
  std::atomic<int> ok{0}, failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client cl("127.0.0.1", http_port());
      cl.set_read_timeout(30, 0);
      cl.set_bearer_token_auth(key);
      for (int i = c; !stop; i = (i + 4) % 300) {
        auto res = cl.Post("/v2/models/fm/infer", ImageRequest(record(i)).dump(), "application/json");
        (res && res->status == 200 ? ok : failed)++;
      }
    });
  }
  // Poll, with deadlines: load first, then requests going on after the kill.
  auto until = [](const std::function<bool()>& pred, int seconds) {
    for (int i = 0; i < seconds * 50 && !pred(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return pred();
  };
  EXPECT_TRUE(until([&] { return ok.load() > 20; }, 30));
  const int before = ok.load();
  workers[victim]->Signal(SIGKILL);
  workers[victim]->Wait();
  EXPECT_TRUE(until([&] { return ok.load() > before + 20; }, 30)) << "requests went on after the kill";
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(before, 20);
  EXPECT_GT(ok.load(), before + 20) << "requests went on after the kill";
  EXPECT_EQ(failed.load(), 0);
  served += ok.load();
  EXPECT_EQ(http.Post("/v2/models/fm/infer", ImageRequest(record(0)).dump(), "application/json")->status, 200);
  ++served;
  // Credits running out: dave can afford two images at 0.001, not three.
  const std::string dave = testing::Json(Cairn({"accounts", "create", "--json"}, "dave-home", false).out)["account"];
  const std::string dave_key = testing::Json(Cairn({"keys", "api", "new", "--json"}, "dave-home").out)["key"];
  ASSERT_EQ(Cairn({"accounts", "credit", dave, "0.0025", "--key", dir() + "/coord/log.key"}, "operator-home").code, 0);
  httplib::Client dave_http("127.0.0.1", http_port());
  dave_http.set_bearer_token_auth(dave_key);
  std::vector<int> codes;
  for (int i = 0; i < 3; ++i) codes.push_back(dave_http.Post("/v2/models/fm/infer", ImageRequest(record(i)).dump(), "application/json")->status);
  EXPECT_EQ(codes, (std::vector<int>{200, 200, 402}));
  const uint64_t dave_served = 2;
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("cairn_inference_requests_total{api=\"kserve\",code=\"2xx\"}"), std::string::npos);
  EXPECT_NE(metrics->body.find("cairn_inference_latency_seconds_kserve_bucket"), std::string::npos);

  // Metering: the usage entries in the ledger add up to exactly what was
  // served, all charged to carol (flushed at least once a second: polled).
  uint64_t metered = 0, charged = 0, tokens = 0, dave_metered = 0, all_charged = 0;
  auto tally = [&] {
    metered = charged = tokens = dave_metered = all_charged = 0;
  for (int i = 0;; ++i) {
    auto r = http.Get("/entry/" + std::to_string(i));
    if (!r || r->status != 200) break;
    auto e = json::parse(r->body)["decoded"];
    if (e["type"] != "inferenceUsage") continue;
    all_charged += e["body"]["charge_micros"].get<uint64_t>();
    if (e["body"]["consumer"] == dave) {
      dave_metered += e["body"]["requests"].get<uint64_t>();
      continue;
    }
    if (e["body"]["consumer"] != carol) ADD_FAILURE() << "usage charged to " << e["body"]["consumer"];
    metered += e["body"]["requests"].get<uint64_t>();
    charged += e["body"]["charge_micros"].get<uint64_t>();
    tokens += e["body"]["tokens"].get<uint64_t>();
  }
    return metered == static_cast<uint64_t>(served) && dave_metered == dave_served;
  };
  EXPECT_TRUE(until(tally, 30));
  EXPECT_EQ(metered, static_cast<uint64_t>(served));
  EXPECT_EQ(dave_metered, dave_served);
  EXPECT_EQ(tokens, 2u * (6 + 20)) << "two completions of 6 prompt + 20 generated bytes";
  EXPECT_EQ(charged, static_cast<uint64_t>(served - 2) * 1000 + 2 * 26000) << "0.001 per image, 1 credit per 1,000 tokens";
  // The ledger verifies, and the payouts trace every credit to entries.
  auto verify = Cairn({"ledger", "verify", "http://127.0.0.1:" + std::to_string(http_port())}, "client-home", false);
  EXPECT_EQ(verify.code, 0) << verify.out;
  auto payouts = Cairn({"payouts", "--json"}, "client-home");
  ASSERT_EQ(payouts.code, 0) << payouts.out;
  uint64_t paid = 0;
  std::set<std::string> reasons;
  const json payout_doc = testing::Json(payouts.out);  // named: a loop over a temporary's member dangles
  for (const auto& p : payout_doc["payouts"]) {
    EXPECT_FALSE(p["entries"].empty());
    for (const auto& [reason, m] : p["by_reason"].items()) {
      reasons.insert(reason);
      // What inference paid out (training's compute, data and refunds are the training jobs').
      if (reason == "serving" || reason == "royalty" || reason == "data royalty") paid += m.get<uint64_t>();
    }
  }
  EXPECT_EQ(paid, all_charged) << payouts.out;
  EXPECT_TRUE(reasons.count("compute") && reasons.count("refund")) << "training was paid for\n" << payouts.out;
  EXPECT_TRUE(reasons.count("serving")) << payouts.out;
  auto table = Cairn({"payouts"}, "client-home");
  EXPECT_NE(table.out.find("FROM LEDGER ENTRIES"), std::string::npos) << table.out;
  auto shown = testing::Json(Cairn({"accounts", "show", "--json"}, "carol-home").out);
  EXPECT_EQ(shown["available_micros"].get<int64_t>(), 100000000 - static_cast<int64_t>(charged));
}

}  // namespace
}  // namespace cairn
