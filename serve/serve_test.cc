// Serving on real parts: models exported by the training engine (one of them
// trained on Fashion-MNIST for real), loaded from TorchScript bytes, run
// through the batcher, and asked over HTTP on loopback with a real client.
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "data/loopback_data_plane.h"
#include "serve/replica_server.h"
#include "serve/test_export.h"
#include "train/models.h"
#include "train/trainer.h"

namespace cairn::serve {
namespace {

using nlohmann::json;


TEST(InferenceModel, KnowsWhatItServes) {
  auto mlp = InferenceModel::Load(ExportForTest("mlp"));
  ASSERT_TRUE(mlp.ok()) << mlp.status();
  EXPECT_EQ((*mlp)->info().task, ModelTask::kImageClassification);
  EXPECT_EQ((*mlp)->info().input_shape, (std::vector<int64_t>{1, 28, 28}));
  EXPECT_EQ((*mlp)->info().classes, 10);
  // Flattened images are accepted too; a wrong size is named.
  auto out = (*mlp)->Forward(FloatTensor{{3, 784}, std::vector<float>(3 * 784, 0.5f)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape, (std::vector<int64_t>{3, 10}));
  auto bad = (*mlp)->Forward(FloatTensor{{1, 700}, std::vector<float>(700)});
  EXPECT_NE(std::string(bad.status().message()).find("[1, 28, 28]"), std::string::npos) << bad.status();
  EXPECT_FALSE((*mlp)->Forward(FloatTensor{{2, 784}, std::vector<float>(784)}).ok());
  EXPECT_FALSE(InferenceModel::Load("not a model").ok());

  auto gpt = InferenceModel::Load(ExportForTest("char-gpt"));
  ASSERT_TRUE(gpt.ok()) << gpt.status();
  EXPECT_EQ((*gpt)->info().task, ModelTask::kTextGeneration);
  EXPECT_EQ((*gpt)->info().context, 16);
  EXPECT_FALSE((*mlp)->Generate("x", {}).ok());
}

// Placement: the CPU when asked; CUDA only where LibTorch sees a device, with
// the same answers as the CPU (to fp32 tolerance) and the same generation.
TEST(InferenceModel, RunsWhereItIsPlaced) {
  const std::string ts = ExportForTest("mlp");
  auto cpu = InferenceModel::Load(ts, ServeDevice::kCpu);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ((*cpu)->info().device, "cpu");
  EXPECT_FALSE(ParseServeDevice("gpu").ok());
  EXPECT_EQ(*ParseServeDevice("cuda"), ServeDevice::kCuda);
  auto cuda = InferenceModel::Load(ts, ServeDevice::kCuda);
  auto automatic = InferenceModel::Load(ts);
  ASSERT_TRUE(automatic.ok()) << automatic.status();
  if (!cuda.ok()) {
    EXPECT_EQ(cuda.status().code(), StatusCode::kFailedPrecondition) << cuda.status();
    EXPECT_EQ((*automatic)->info().device, "cpu");
    GTEST_SKIP() << "no CUDA device: " << cuda.status();
  }
  EXPECT_EQ((*cuda)->info().device, "cuda:0");
  EXPECT_EQ((*automatic)->info().device, "cuda:0");
  FloatTensor in{{4, 1, 28, 28}, std::vector<float>(4 * 784)};
  for (size_t i = 0; i < in.data.size(); ++i) in.data[i] = static_cast<float>(i % 97) / 97.0f;
  auto a = (*cpu)->Forward(in);
  auto b = (*cuda)->Forward(in);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->data.size(), b->data.size());
  for (size_t i = 0; i < a->data.size(); ++i) EXPECT_NEAR(a->data[i], b->data[i], 1e-3) << i;
}

TEST(InferenceModel, GeneratesReproduciblyAndStopsWhereAsked) {
  auto gpt = *InferenceModel::Load(ExportForTest("char-gpt"));
  GenerateOptions o;
  o.max_tokens = 40;  // past the context: the window slides
  o.seed = 42;
  auto a = gpt->Generate("To be", o);
  auto b = gpt->Generate("To be", o);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->text, b->text) << "same seed, same text";
  EXPECT_EQ(a->completion_tokens, 40);
  EXPECT_EQ(a->prompt_tokens, 5);
  EXPECT_EQ(a->finish_reason, "length");
  // Streaming pieces add up to the text, each one whole UTF-8.
  std::string streamed;
  auto c = gpt->Generate("To be", o, [&](const std::string& piece, const std::vector<TokenLogprob>&) {
    streamed += piece;
    return true;
  });
  EXPECT_EQ(streamed, c->text);
  EXPECT_EQ(c->text, a->text);
  // Greedy decoding, then a stop sequence taken from its middle.
  o.temperature = 0;
  auto greedy = *gpt->Generate("abc", o);
  const std::string stop = greedy.text.substr(10, 3);
  const size_t first = greedy.text.find(stop);
  o.stop = {stop};
  streamed.clear();
  auto cut = gpt->Generate("abc", o, [&](const std::string& piece, const std::vector<TokenLogprob>&) {
    streamed += piece;
    return true;
  });
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->finish_reason, "stop");
  EXPECT_EQ(cut->text, greedy.text.substr(0, first));
  EXPECT_EQ(streamed, cut->text) << "no part of the stop sequence is streamed";
  o.max_tokens = 0;
  EXPECT_EQ(gpt->Generate("abc", o)->text, "");
}

TEST(Batcher, ConcurrentRequestsShareBatchesAndGetTheirOwnRows) {
  std::shared_ptr<const InferenceModel> mlp(InferenceModel::Load(ExportForTest("mlp"))->release());
  Batcher batcher(mlp, 16);
  constexpr int kThreads = 8, kEach = 50;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        FloatTensor x{{1, 1, 28, 28}, std::vector<float>(784, static_cast<float>(t * kEach + i) / 400.0f)};
        auto want = mlp->Forward(x);
        auto got = batcher.Run(x);
        if (!got.ok() || got->shape != want->shape) {
          ++mismatches;
          continue;
        }
        for (size_t k = 0; k < got->data.size(); ++k) {
          if (std::abs(got->data[k] - want->data[k]) > 1e-4f) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(batcher.stats().requests, static_cast<uint64_t>(kThreads * kEach));
  EXPECT_LE(batcher.stats().batches, batcher.stats().requests);
}

// A replica over HTTP: the classifier trained here for real answers KServe
// v2 requests with the right classes; the text model answers OpenAI
// completions, plain and streamed; errors come in each API's own shape.
class Replica : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) return;
    auto m = plane_->Add("/usr/share/datasets/fashion-mnist", data::Format::kIdx, "fashion-mnist");
    ASSERT_TRUE(m.ok()) << m.status();
    fashion_ = new data::Manifest(*m);
    train::TrainTask t;
    t.job_id = t.job_name = "serve-test";
    t.dataset = *m;
    t.config.steps = 600;
    t.config.round_steps = 600;
    data::DataClient client("127.0.0.1", plane_->port(), "");
    train::TrainHooks h;
    h.threads = 1;
    auto r = train::RunTraining(t, client, h);
    ASSERT_TRUE(r.ok()) << r.status();
    classifier_ = new std::string(r->torchscript);
  }
  static inline data::LoopbackDataPlane* plane_ = new data::LoopbackDataPlane();
  static inline data::Manifest* fashion_ = nullptr;
  static inline std::string* classifier_ = nullptr;
};

TEST_F(Replica, KServeReturnsTheRightClasses) {
  if (!classifier_) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  std::shared_ptr<const InferenceModel> model(InferenceModel::Load(*classifier_)->release());
  ReplicaServer server(model, ReplicaOptions{"fashion", "127.0.0.1", 0, 32});
  auto port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status();
  httplib::Client http("127.0.0.1", *port);
  // The first 200 test images, as a client would send them.
  data::DataClient client("127.0.0.1", plane_->port(), "");
  const data::Split* test = fashion_->FindSplit("test");
  ASSERT_NE(test, nullptr);
  auto chunk = client.GetBlob(test->chunks[0].hash);
  ASSERT_TRUE(chunk.ok()) << chunk.status();
  int correct = 0;
  constexpr int kImages = 200;
  for (int i = 0; i < kImages; ++i) {
    const unsigned char* rec = reinterpret_cast<const unsigned char*>(chunk->data()) + i * 785;
    json pixels = json::array();
    for (int p = 0; p < 784; ++p) pixels.push_back(rec[1 + p] / 255.0);
    json req = {{"id", "img-" + std::to_string(i)},
                {"inputs", json::array({{{"name", "input"}, {"shape", {1, 1, 28, 28}}, {"datatype", "FP32"}, {"data", pixels}}})}};
    auto res = http.Post("/v2/models/fashion/infer", req.dump(), "application/json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto out = json::parse(res->body);
    EXPECT_EQ(out["id"], "img-" + std::to_string(i));
    auto logits = out["outputs"][0]["data"].get<std::vector<float>>();
    ASSERT_EQ(logits.size(), 10u);
    correct += std::max_element(logits.begin(), logits.end()) - logits.begin() == rec[0];
  }
  EXPECT_GE(correct, kImages * 78 / 100) << "600 steps of the MLP reach ~80% on Fashion-MNIST";
  auto meta = http.Get("/v2/models/fashion");
  ASSERT_TRUE(meta);
  EXPECT_EQ(json::parse(meta->body)["inputs"][0]["shape"], json::array({-1, 1, 28, 28}));
  EXPECT_EQ(http.Get("/v2/models/fashion/ready")->status, 200);
  EXPECT_EQ(http.Get("/v2/health/ready")->status, 200);
  auto missing = http.Post("/v2/models/nope/infer", "{}", "application/json");
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body).contains("error"));
  auto malformed = http.Post("/v2/models/fashion/infer", "{\"inputs\": [", "application/json");
  EXPECT_EQ(malformed->status, 400);
  EXPECT_NE(json::parse(malformed->body)["error"].get<std::string>().find("JSON"), std::string::npos);
  auto completions = http.Post("/v1/completions", R"({"model": "fashion", "prompt": "x"})", "application/json");
  EXPECT_EQ(completions->status, 400) << "an image model has no completions";
  EXPECT_EQ(json::parse(completions->body)["error"]["param"], "model");
}

TEST_F(Replica, OpenAiCompletionsPlainAndStreamed) {
  std::shared_ptr<const InferenceModel> model(InferenceModel::Load(ExportForTest("char-gpt"))->release());
  ReplicaServer server(model, ReplicaOptions{"tiny-gpt", "127.0.0.1", 0, 32});
  auto port = server.Start();
  ASSERT_TRUE(port.ok());
  httplib::Client http("127.0.0.1", *port);
  const std::string body = R"({"model": "tiny-gpt", "prompt": "ROMEO:", "max_tokens": 24, "seed": 3)";
  auto plain = http.Post("/v1/completions", body + "}", "application/json");
  ASSERT_TRUE(plain);
  ASSERT_EQ(plain->status, 200) << plain->body;
  auto j = json::parse(plain->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["model"], "tiny-gpt");
  EXPECT_EQ(j["usage"]["prompt_tokens"], 6);
  EXPECT_EQ(j["usage"]["completion_tokens"], 24);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  const std::string text = j["choices"][0]["text"];

  std::string raw;
  auto streamed = http.Post("/v1/completions", body + R"(, "stream": true, "stream_options": {"include_usage": true}})",
                            "application/json");
  ASSERT_TRUE(streamed);
  EXPECT_EQ(streamed->status, 200);
  EXPECT_NE(streamed->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  // Server-sent events: "data: {...}\n\n" each, the last "data: [DONE]".
  std::string joined, finish;
  int64_t usage_tokens = -1;
  size_t pos = 0, events = 0;
  bool done = false;
  const std::string& sse = streamed->body;
  while (pos < sse.size()) {
    const size_t end = sse.find("\n\n", pos);
    ASSERT_NE(end, std::string::npos) << "an event is not terminated: " << sse.substr(pos);
    const std::string ev = sse.substr(pos, end - pos);
    pos = end + 2;
    ASSERT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    ++events;
    if (ev == "data: [DONE]") {
      done = true;
      EXPECT_EQ(pos, sse.size()) << "nothing after [DONE]";
      break;
    }
    auto c = json::parse(ev.substr(6));
    if (c["choices"].empty()) {
      usage_tokens = c["usage"]["completion_tokens"];
      continue;
    }
    joined += c["choices"][0]["text"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(done);
  EXPECT_GT(events, 3u);
  EXPECT_EQ(joined, text) << "the same seed streams the same text";
  EXPECT_EQ(finish, "length");
  EXPECT_EQ(usage_tokens, 24);

  auto bad = http.Post("/v1/completions", R"({"model": "tiny-gpt", "max_tokens": "many"})", "application/json");
  EXPECT_EQ(bad->status, 400);
  auto e = json::parse(bad->body);
  EXPECT_EQ(e["error"]["type"], "invalid_request_error");
  EXPECT_EQ(e["error"]["param"], "max_tokens");
  auto nojson = http.Post("/v1/completions", "{oops", "application/json");
  EXPECT_EQ(nojson->status, 400);
  EXPECT_NE(json::parse(nojson->body)["error"]["message"].get<std::string>().find("JSON"), std::string::npos);
  EXPECT_EQ(http.Post("/v1/completions", R"({"model": "other"})", "application/json")->status, 404);
  EXPECT_EQ(json::parse(http.Get("/v1/models")->body)["data"][0]["id"], "tiny-gpt");
  EXPECT_EQ(server.stats().completion_tokens, 48u);
}

}  // namespace
}  // namespace cairn::serve
