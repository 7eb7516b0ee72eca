#include "worker/matmul_bench.h"

#include <gtest/gtest.h>

namespace cairn::worker {
namespace {

TEST(MatmulBench, MeasuresAPositiveRateAndHonoursCancel) {
  auto r = RunMatmul(0.3, 128, /*cuda=*/false, nullptr);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->multiplies, 0u);
  EXPECT_GT(r->tflops, 0.0);
  EXPECT_GE(r->best_tflops, r->tflops);
  EXPECT_GE(r->seconds, 0.3);
  std::atomic<bool> cancel{true};
  EXPECT_EQ(RunMatmul(10, 64, false, &cancel).status().code(), StatusCode::kCancelled);
  EXPECT_EQ(RunMatmul(1, 0, false, nullptr).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(TorchVersion().empty());
}

}  // namespace
}  // namespace cairn::worker
