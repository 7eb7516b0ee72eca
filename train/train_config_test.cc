#include "train/train_config.h"

#include <gtest/gtest.h>

namespace cairn::train {
namespace {

StatusOr<TrainConfig> FromYaml(const std::string& hyper) {
  ASSIGN_OR_RETURN(jobspec::JobSpec spec,
                   jobspec::ParseJobSpec("name: x\nmodel: char-gpt\ndatasets: [d]\nhyperparameters: {" + hyper + "}\n", "job.yaml"));
  return ConfigFromSpec(spec);
}

TEST(LearningRate, CosineFromLrToATenthWithoutWarmup) {
  TrainConfig c;
  c.lr = 1e-3;
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 1, 101), 1e-3);
  EXPECT_NEAR(LearningRateAt(c, 51, 101), 1e-3 * 0.55, 1e-15);
  EXPECT_NEAR(LearningRateAt(c, 101, 101), 1e-4, 1e-15);
  EXPECT_NEAR(LearningRateAt(c, 500, 101), 1e-4, 1e-15);  // past the end: stays at the floor
  c.cosine = false;
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 77, 101), 1e-3);
}

TEST(LearningRate, WarmupRampsThenTheScheduleStarts) {
  auto c = FromYaml("lr: 0.002, warmup_steps: 100");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->warmup_steps, 100);
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 1, 1100), 2e-5);
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 50, 1100), 1e-3);
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 100, 1100), 2e-3);
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 101, 1100), 2e-3);            // the cosine's first step
  EXPECT_NEAR(LearningRateAt(*c, 1100, 1100), 2e-4, 1e-15);         // and its last
  for (int64_t t = 2; t <= 1100; ++t) EXPECT_LE(LearningRateAt(*c, t, 1100), 2e-3) << t;
  c->cosine = false;
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 10, 1100), 2e-4);
  EXPECT_DOUBLE_EQ(LearningRateAt(*c, 900, 1100), 2e-3);
}

TEST(LearningRate, BadWarmupIsRefusedByName) {
  for (const char* bad : {"warmup_steps: -1", "warmup_steps: ten", "warmup_steps: 1.5"}) {
    auto c = FromYaml(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_NE(c.status().message().find("hyperparameters.warmup_steps"), std::string::npos) << c.status().message();
  }
}

TEST(Precision, Bf16NeedsCudaAndUnknownValuesAreRefused) {
  auto bad = FromYaml("precision: fp8");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("hyperparameters.precision: must be fp32 or bf16, got 'fp8'"), std::string::npos)
      << bad.status();
  auto cpu = FromYaml("precision: bf16");
  ASSERT_FALSE(cpu.ok());
  EXPECT_NE(cpu.status().message().find("needs resources.device: cuda"), std::string::npos) << cpu.status();
  auto spec = jobspec::ParseJobSpec(
      "name: g\nmodel: mlp\ndatasets: [d]\nresources: {device: cuda}\nhyperparameters: {precision: bf16}\n", "job.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto c = ConfigFromSpec(*spec);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->bf16);
  EXPECT_EQ(c->device, jobspec::Device::kCuda);
}

}  // namespace
}  // namespace cairn::train
