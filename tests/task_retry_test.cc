// Task failures keep their codes, with real processes and a real network
// fault: a worker reaches the coordinator's HTTP port (datasets, blobs)
// through a TCP proxy the test cuts. Unreachable at the start, the task
// fails with UNAVAILABLE and the job is retried (after a backoff) until it
// runs; unreachable mid-job, the checkpoints and the model wait in the
// worker's outbox and go up once it is back. Either way the job succeeds.
// A job naming a dataset that does not exist fails at once, with no retry,
// naming it.
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "runtime/base/test_data.h"
#include "tests/local_cluster.h"
#include "tests/tcp_proxy.h"

namespace cairn {
namespace {

class TaskRetry : public ::testing::Test, public testing::LocalCluster {
 protected:
  TaskRetry() : LocalCluster(CAIRN_BINARY, "cairn-retry") {}
};

TEST_F(TaskRetry, AnUnreachableBlobStoreIsRetriedAndABadSpecFailsAtOnce) {
  auto text = ReadSharedData("tinyshakespeare/input.txt");
  if (!text.ok()) GTEST_SKIP() << "shared test data not found: " << text.status();
  std::ofstream(dir() + "/text.txt") << text->substr(0, 100'000);
  auto coordinator = StartCoordinator();
  auto add = Cairn({"dataset", "add", dir() + "/text.txt", "--name", "text", "--format", "text", "--license", "CC0-1.0",
                    "--price-per-1k", "0.001", "--json"}, "alice-home");
  ASSERT_EQ(add.code, 0) << add.out;
  testing::TcpProxy proxy(http_port());
  auto worker = StartWorkerVia(proxy.port(), "w1", {"--threads", "1", "--http-retry-seconds", "1"});
  ASSERT_TRUE(WaitForWorkers(1));

  // 1. Unreachable when the task starts: UNAVAILABLE, requeued, then it runs.
  proxy.SetDown(true);
  const std::string id = Submit("job", "name: flaky\nkind: train\nmodel: char-gpt\ndatasets: [text]\n"
                                      "hyperparameters: {lr: 0.003, batch_size: 16, steps: 240, round_steps: 20,"
                                      " layers: 1, heads: 2, width: 32, context: 32}\n"
                                      "checkpoint_every: 2\nmax_retries: 5\nbudget: 100\noutput: {model: flaky-gpt}\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitLogs(id, [](const std::string& l) { return l.find("requeued (retry 1 of 5") != std::string::npos; }, 60))
      << Logs(id);
  EXPECT_GT(proxy.refused(), 0);
  proxy.SetDown(false);

  // 2. Unreachable mid-job, for a few seconds: training goes on; what it
  //    owes the blob store waits in the outbox.
  ASSERT_TRUE(WaitLogs(id, [](const std::string& l) { return l.find("round 3/12") != std::string::npos; }, 120)) << Logs(id);
  const int refused_before = proxy.refused();
  proxy.SetDown(true);
  // The worker's uploader runs into the cut (a checkpoint or the model), and
  // the job waits for it rather than failing.
  for (int i = 0; i < 600 && proxy.refused() == refused_before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(proxy.refused(), refused_before) << "nothing tried to reach the blob store while it was cut off";
  ASSERT_TRUE(WaitLogs(id, [](const std::string& l) { return l.find("round 6/12") != std::string::npos; }, 120)) << Logs(id);
  EXPECT_EQ(Status(id)["state"], "running") << "still running while cut off";
  proxy.SetDown(false);

  ASSERT_TRUE(WaitLogs(id, [](const std::string& l) { return l.find("job succeeded") != std::string::npos ||
                                                           l.find("job failed") != std::string::npos; }, 180))
      << Logs(id);
  const std::string logs = Logs(id);
  EXPECT_NE(logs.find("job succeeded"), std::string::npos) << logs;
  EXPECT_NE(logs.find("failed (UNAVAILABLE)"), std::string::npos) << logs;
  auto st = Status(id);
  EXPECT_GE(st["retries"].get<int>(), 1) << st.dump();
  auto models = Cairn({"models", "list", "--json"});
  EXPECT_NE(models.out.find("flaky-gpt"), std::string::npos) << models.out;

  // 3. A permanent failure: no retry, and the message names what is wrong.
  // (An unknown dataset is refused at submit; an mlp on text fails on the worker.)
  std::ofstream(dir() + "/bad.yaml") << "name: bad\nkind: train\nmodel: mlp\ndatasets: [text]\n"
                                        "hyperparameters: {steps: 20}\nmax_retries: 5\nbudget: 10\n";
  auto bad = Cairn({"submit", dir() + "/bad.yaml", "--follow"});
  EXPECT_NE(bad.code, 0) << bad.out;
  EXPECT_NE(bad.out.find("mlp trains on an idx dataset"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("failed"), std::string::npos) << bad.out;
  EXPECT_EQ(bad.out.find("requeued"), std::string::npos) << "a permanent error is not retried\n" << bad.out;
}

}  // namespace
}  // namespace cairn
