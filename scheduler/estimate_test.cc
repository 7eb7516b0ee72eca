#include "scheduler/estimate.h"

#include <gtest/gtest.h>

namespace cairn::scheduler {
namespace {

jobspec::JobSpec Spec(const std::string& hyper) {
  return jobspec::ParseJobSpec("name: x\nkind: train\nmodel: mlp\ndatasets: [d]\nhyperparameters: {" + hyper +
                                   "}\nbudget: 5\n",
                               "x.yaml")
      .value();
}

DatasetFacts Fashion() {
  DatasetFacts d;
  d.name = "d";
  d.train_samples = 60000;
  d.price_per_1k_micros = 10'000;  // 0.01 credits
  return d;
}

TEST(Estimate, StepsSamplesAndDataFollowTheSpec) {
  auto e = EstimateTrainingCost(Spec("batch_size: 64, epochs: 2"), {Fashion()}, {{0.05, 1'000'000}, {0.05, 1'000'000}}, 0);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->steps, 938);  // ceil(2 * 60000 / (64 * 2))
  EXPECT_EQ(e->samples, 938u * 64 * 2);
  EXPECT_EQ(e->data_micros, e->samples * 10'000 / 1000);
  // 6 x (784*256 + 256*128 + 128*10) multiply-adds x 64 samples.
  EXPECT_DOUBLE_EQ(e->flops_per_step, 6.0 * (784 * 256 + 256 * 128 + 128 * 10) * 64);
  EXPECT_GT(e->hours, 0);
  EXPECT_NE(e->basis.find("938 steps"), std::string::npos) << e->basis;
}

TEST(Estimate, ComputeScalesWithPriceAndWaitsForTheSlowestWorker) {
  auto one = EstimateTrainingCost(Spec("steps: 1000"), {Fashion()}, {{0.05, 1'000'000}}, 0).value();
  auto dear = EstimateTrainingCost(Spec("steps: 1000"), {Fashion()}, {{0.05, 3'000'000}}, 0).value();
  EXPECT_NEAR(static_cast<double>(dear.compute_micros), 3.0 * static_cast<double>(one.compute_micros), 3);
  auto mixed = EstimateTrainingCost(Spec("steps: 1000"), {Fashion()}, {{0.5, 1'000'000}, {0.05, 1'000'000}}, 0).value();
  EXPECT_DOUBLE_EQ(mixed.hours, one.hours);  // the 0.05 TFLOP/s worker sets the pace
  auto fast = EstimateTrainingCost(Spec("steps: 1000"), {Fashion()}, {{0.5, 1'000'000}}, 0).value();
  EXPECT_LT(fast.hours, one.hours);
}

TEST(Estimate, DdpPaysForItsAllReduceEveryStepDilocoOncePerRound) {
  auto spec = [](const std::string& strategy, int workers = 2) {
    return jobspec::ParseJobSpec("name: x\nkind: train\nmodel: mlp\ndatasets: [d]\nhyperparameters: {steps: 1000}\n"
                                 "resources: {workers: " + std::to_string(workers) + "}\nstrategy: " + strategy +
                                 "\nbudget: 5\n", "x.yaml").value();
  };
  const std::vector<WorkerSpeed> two = {{0.05, 1'000'000}, {0.05, 1'000'000}};
  auto ddp = EstimateTrainingCost(spec("ddp"), {Fashion()}, two, 0).value();
  auto diloco = EstimateTrainingCost(spec("{diloco: {inner_steps: 50}}"), {Fashion()}, two, 0).value();
  auto single = EstimateTrainingCost(spec("single", 1), {Fashion()}, {two[0]}, 0).value();
  EXPECT_GT(ddp.hours, diloco.hours);
  EXPECT_GT(diloco.hours, single.hours);
  EXPECT_NE(ddp.basis.find("exchange"), std::string::npos) << ddp.basis;
}

TEST(Estimate, TextSamplesAreTokens) {
  auto spec = jobspec::ParseJobSpec("name: x\nkind: train\nmodel: char-gpt\ndatasets: [t]\n"
                                    "hyperparameters: {steps: 100, batch_size: 16, context: 64}\nbudget: 5\n", "x.yaml").value();
  DatasetFacts t;
  t.text = true;
  t.train_samples = 1'000'000;
  t.price_per_1k_micros = 100;
  auto e = EstimateTrainingCost(spec, {t}, {{0.05, 0}}, 0).value();
  EXPECT_EQ(e.samples, 100u * 16 * 64);
  EXPECT_EQ(e.data_micros, 100u * 16 * 64 * 100 / 1000);
}

TEST(Estimate, FeeAndTotals) {
  auto e = EstimateTrainingCost(Spec("steps: 10"), {Fashion()}, {{0.05, 0}}, 250'000).value();
  EXPECT_EQ(e.compute_micros, 0u);
  EXPECT_EQ(e.fee_micros, 250'000u);
  EXPECT_EQ(e.total(), e.data_micros + 250'000u);
  EXPECT_EQ(Credits(1'250'000), "1.250000 credits");
}

TEST(Estimate, RefusesWhatTheTrainerWould) {
  EXPECT_FALSE(EstimateTrainingCost(Spec("steps: 10"), {Fashion()}, {}, 0).ok());
  EXPECT_FALSE(EstimateTrainingCost(Spec("steps: 10"), {}, {{0.05, 0}}, 0).ok());
  auto bad = jobspec::ParseJobSpec("name: x\nkind: train\nmodel: mlp\ndatasets: [d]\nhyperparameters: {lrr: 1}\n", "x.yaml");
  ASSERT_TRUE(bad.ok());
  auto e = EstimateTrainingCost(*bad, {Fashion()}, {{0.05, 0}}, 0);
  EXPECT_FALSE(e.ok());
}

}  // namespace
}  // namespace cairn::scheduler
