// GPU workers as the coordinator sees them: a `cairn worker` that reports a
// GPU (here one that claims it through CAIRN_TEST_CLAIM_GPU, since this
// machine may have none) is listed with the GPU's name, memory and measured
// bf16 TFLOP/s; a `resources.device: cuda` train job is accepted and placed
// on it only, never on the CPU worker beside it; and with no GPU worker
// alive such a job waits, saying why, instead of running on a CPU.
#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/local_cluster.h"

namespace cairn {
namespace {

using testing::Json;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";
constexpr char kCudaJob[] =
    "name: on-gpu\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
    "hyperparameters: {steps: 20, round_steps: 10, precision: bf16}\n"
    "resources: {device: cuda}\nmax_retries: 0\nbudget: 10\n";

class GpuPlacement : public ::testing::Test, public testing::LocalCluster {
 protected:
  GpuPlacement() : LocalCluster(CAIRN_BINARY, "cairn-gpu") {}
};

TEST_F(GpuPlacement, CudaTrainJobsGoOnlyToWorkersThatReportAGpu) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto coordinator = StartCoordinator();
  auto add = Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT",
                    "--price-per-1k", "0.01", "--json"}, "alice-home");
  ASSERT_EQ(add.code, 0) << add.out;
  auto cpu = StartWorker("cpu1", {"--threads", "1"});
  auto gpu = StartWorker("gpu1", {"--threads", "1"}, {"CAIRN_TEST_CLAIM_GPU=Claimed H100 80GB HBM3:80:612.5"});
  ASSERT_TRUE(WaitForWorkers(2));

  // The GPU is listed with what the worker measured.
  auto listed = Cairn({"workers", "--json"});
  ASSERT_EQ(listed.code, 0) << listed.out;
  bool saw_gpu = false, saw_cpu = false;
  for (const auto& w : Json(listed.out)) {
    if (w["id"] == ids_["gpu1"]) {
      saw_gpu = true;
      EXPECT_EQ(w["device"], "cuda");
      ASSERT_EQ(w["gpus"].size(), 1u) << w.dump();
      EXPECT_EQ(w["gpus"][0]["name"], "Claimed H100 80GB HBM3");
      EXPECT_EQ(w["gpus"][0]["memory_bytes"], uint64_t{80} << 30);
      EXPECT_DOUBLE_EQ(w["gpus"][0]["bf16_tflops"].get<double>(), 612.5);
      EXPECT_DOUBLE_EQ(w["tflops"].get<double>(), 612.5) << "a GPU worker is ranked by its GPUs' bf16 speed";
    } else if (w["id"] == ids_["cpu1"]) {
      saw_cpu = true;
      EXPECT_EQ(w["device"], "cpu");
      EXPECT_TRUE(w["gpus"].empty()) << w.dump();
    }
  }
  ASSERT_TRUE(saw_gpu && saw_cpu) << listed.out;

  // A cuda train job is accepted and placed on the GPU worker alone.
  const std::string id = Submit("gpu", kCudaJob);
  ASSERT_FALSE(id.empty());
  // The claimed GPU is not there: the worker says so, and the job fails
  // (max_retries 0) rather than training on the CPU.
  nlohmann::json st;
  ASSERT_TRUE(Poll([&] {
    st = Status(id);
    return st["state"] == "failed";
  }, 120)) << st.dump();
  const std::string logs = Logs(id);
  EXPECT_NE(logs.find("placed (attempt 1) on " + ids_["gpu1"].substr(0, 8)), std::string::npos) << logs;
  EXPECT_EQ(logs.find(ids_["cpu1"].substr(0, 8)), std::string::npos) << "the CPU worker took part:\n" << logs;
  EXPECT_NE(st["message"].get<std::string>().find("task failed on " + ids_["gpu1"] + ": the job trains on cuda, but no CUDA "
                                                  "device is visible to this worker"),
            std::string::npos)
      << st.dump();

  // Without a GPU worker, a cuda job waits (and says why) rather than run on
  // the CPU worker.
  gpu->Signal(SIGKILL);
  gpu->Wait();
  ASSERT_TRUE(Poll([&] { return !WaitForWorkers(2); }, 60));
  const std::string waiting = Submit("gpu2", kCudaJob);
  ASSERT_FALSE(waiting.empty());
  ASSERT_TRUE(Poll([&] {
    st = Status(waiting);
    return st["message"] == "waiting: no GPU (cuda) worker is connected";
  }, 30)) << st.dump();
  EXPECT_TRUE(st["workers"].empty()) << st.dump();
  EXPECT_EQ(st["state"], "queued") << st.dump();
}

}  // namespace
}  // namespace cairn
