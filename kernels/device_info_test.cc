#include "kernels/device_info.h"

#include <gtest/gtest.h>

namespace cairn::kernels {
namespace {

TEST(DeviceInfo, ListingNeverFailsWithoutAGpu) {
  auto devices = ListCudaDevices();
  ASSERT_TRUE(devices.ok()) << devices.status();
  if (devices->empty()) {
    EXPECT_FALSE(CudaRuntimeVersion().empty());
    GTEST_SKIP() << "no CUDA device visible (built with CUDA: " << BuiltWithCuda() << ")";
  }
  for (const auto& d : *devices) {
    EXPECT_FALSE(d.name.empty());
    EXPECT_GT(d.memory_bytes, 0u);
    EXPECT_GT(d.multiprocessors, 0);
    EXPECT_GE(d.major, 5);
  }
}

TEST(DeviceInfo, VersionsMatchTheBuild) {
  if (BuiltWithCuda()) {
    EXPECT_NE(NcclVersion(), "none");
    EXPECT_NE(CudaRuntimeVersion(), "none");
  } else {
    EXPECT_EQ(NcclVersion(), "none");
  }
}

}  // namespace
}  // namespace cairn::kernels
