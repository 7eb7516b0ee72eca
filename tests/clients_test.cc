// Consumers' own clients against the gateway: a coordinator and two `cairn
// worker` processes on loopback train a small char-gpt (exported with the
// "roles" chat template) and a Fashion-MNIST classifier, then serve them;
// tests/clients_test.py drives the gateway with the official `openai` and
// `tritonclient[http]` packages from the project's virtual environment
// (scripts/setup makes it). What the clients were told they used must be
// exactly what the ledger charged: the inferenceUsage entries' requests,
// tokens and credits, and the consumer's balance.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "data/builder.h"
#include "runtime/base/subprocess.h"
#include "runtime/base/test_data.h"
#include "tests/local_cluster.h"

namespace cairn {
namespace {

using nlohmann::json;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

class Clients : public ::testing::Test, public testing::LocalCluster {
 protected:
  Clients() : LocalCluster(CAIRN_BINARY, "cairn-clients") {}
};

TEST_F(Clients, OpenAiAndTritonClientsAreServedAndBilledExactly) {
  const std::string python = SourceDir() + "/.venv/bin/python";
  if (!std::filesystem::exists(python)) {
    FAIL() << python << " is missing: run scripts/setup (it makes .venv with the openai and tritonclient packages)";
  }
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  const std::string text = SharedDataDir() + "/tinyshakespeare/input.txt";
  if (SharedDataDir().empty() || !std::filesystem::exists(text)) GTEST_SKIP() << "no shared test data (CAIRN_SHARED_DATA)";
  auto coordinator = StartCoordinator();
  ASSERT_EQ(Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT"}, "alice-home").code, 0);
  ASSERT_EQ(Cairn({"dataset", "add", text, "--name", "shakespeare", "--format", "text", "--license", "CC0-1.0"}, "bob-home").code, 0);
  auto w1 = StartWorker("w1", {"--threads", "1"});
  auto w2 = StartWorker("w2", {"--threads", "1"});
  ASSERT_TRUE(WaitForWorkers(2));

  const std::string fm = Submit("fm", "name: fm\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
                                      "hyperparameters: {steps: 400, round_steps: 400}\nbudget: 10\noutput: {model: fm}\n");
  const std::string gpt = Submit("gpt", "name: gpt\nkind: train\nmodel: char-gpt\ndatasets: [shakespeare]\n"
                                        "hyperparameters: {steps: 150, round_steps: 150, layers: 1, heads: 2, width: 48,"
                                        " context: 64, batch_size: 16, lr: 0.01}\n"
                                        "budget: 10\noutput: {model: bard, chat_template: roles}\n");
  ASSERT_FALSE(fm.empty() || gpt.empty());
  auto done = [](const std::string& l) { return l.find("job succeeded") != std::string::npos || l.find("job failed") != std::string::npos; };
  ASSERT_TRUE(WaitLogs(fm, done, 300)) << Logs(fm);
  ASSERT_TRUE(WaitLogs(gpt, done, 300)) << Logs(gpt);
  ASSERT_NE(Logs(fm).find("job succeeded"), std::string::npos) << Logs(fm);
  ASSERT_NE(Logs(gpt).find("job succeeded"), std::string::npos) << Logs(gpt);

  const std::string serve_fm = Submit("serve-fm", "name: serve-fm\nkind: serve\nmodel: fm\n"
                                                  "price: {per_request: 0.001}\n");
  const std::string serve_gpt = Submit("serve-gpt", "name: serve-gpt\nkind: serve\nmodel: bard\nprice: {per_1k_tokens: 1}\n");
  ASSERT_FALSE(serve_fm.empty() || serve_gpt.empty());
  ASSERT_TRUE(WaitLogs(serve_fm, [](const std::string& l) { return l.find("] serving fm") != std::string::npos; }, 60)) << Logs(serve_fm);
  ASSERT_TRUE(WaitLogs(serve_gpt, [](const std::string& l) { return l.find("] serving bard") != std::string::npos; }, 60))
      << Logs(serve_gpt);

  // carol pays; dave has a key and no credits.
  const std::string carol = Fund("carol-home", "100");
  const std::string key = testing::Json(Cairn({"keys", "api", "new", "--name", "clients", "--json"}, "carol-home").out)["key"];
  testing::Json(Cairn({"accounts", "create", "--json"}, "dave-home", false).out);
  const std::string broke_key = testing::Json(Cairn({"keys", "api", "new", "--json"}, "dave-home").out)["key"];

  // 64 test images for the script (label byte, then 784 pixels).
  auto built = data::BuildDataset(kFashion, data::Format::kIdx);
  ASSERT_TRUE(built.ok()) << built.status();
  const std::string& test_chunk = built->chunks[built->manifest.splits[0].chunks.size()];
  std::ofstream(dir() + "/images.bin", std::ios::binary) << test_chunk.substr(0, 64 * 785);

  const std::string report = dir() + "/report.json";
  Subprocess script({python, SourceDir() + "/tests/clients_test.py", "--gateway",
                     "127.0.0.1:" + std::to_string(http_port()), "--key", key, "--broke-key", broke_key, "--text-model", "bard",
                     "--image-model", "fm", "--images", dir() + "/images.bin", "--report", report},
                    /*merge_stderr=*/true);
  ASSERT_TRUE(script.started());
  for (std::string line; script.ReadLine(&line, 300'000);) std::cout << "  clients_test.py: " << line << std::endl;
  ASSERT_EQ(script.Wait(), 0) << "the clients' checks failed (above)";

  // The ledger charged carol exactly what the clients were told.
  std::ifstream in(report);
  const json told = json::parse(in);
  const uint64_t requests = told["text_requests"].get<uint64_t>() + told["image_requests"].get<uint64_t>();
  const uint64_t tokens = told["tokens"];
  uint64_t metered = 0, charged = 0, metered_tokens = 0;
  httplib::Client http("127.0.0.1", http_port());
  auto tally = [&] {
    metered = charged = metered_tokens = 0;
    for (int i = 0;; ++i) {
      auto r = http.Get("/entry/" + std::to_string(i));
      if (!r || r->status != 200) break;
      const json e = json::parse(r->body)["decoded"];
      if (e["type"] != "inferenceUsage") continue;
      EXPECT_EQ(e["body"]["consumer"], carol) << "dave has no credits and was charged nothing";
      metered += e["body"]["requests"].get<uint64_t>();
      charged += e["body"]["charge_micros"].get<uint64_t>();
      metered_tokens += e["body"]["tokens"].get<uint64_t>();
    }
  };
  // Usage is flushed at least once a second. Once every request is in the
  // ledger and the gateway holds nothing unrecorded, nothing more can be
  // charged: the tally is final.
  auto unrecorded = [&] {
    auto m = http.Get("/metrics");
    const std::string name = "\ncairn_inference_unrecorded_micros ";
    const size_t at = m ? m->body.find(name) : std::string::npos;
    return at == std::string::npos ? -1.0 : std::atof(m->body.c_str() + at + name.size());
  };
  EXPECT_TRUE(Poll([&] { return unrecorded() == 0 && (tally(), metered >= requests); }, 30));
  EXPECT_EQ(metered, requests);
  EXPECT_EQ(metered_tokens, tokens);
  EXPECT_EQ(charged, tokens * 1000 + told["image_requests"].get<uint64_t>() * 1000)
      << "1 credit per 1,000 tokens, 0.001 per image";
  auto shown = testing::Json(Cairn({"accounts", "show", "--json"}, "carol-home").out);
  EXPECT_EQ(shown["available_micros"].get<int64_t>(), 100'000'000 - static_cast<int64_t>(charged));
}

}  // namespace
}  // namespace cairn
