#include "ledger/store_conformance.h"

#include "runtime/base/temp_dir.h"

namespace cairn::ledger {
namespace {

LedgerBatch Batch(uint64_t first, int n, const std::string& tag) {
  LedgerBatch b;
  b.first_index = first;
  for (int i = 0; i < n; ++i) b.entries.push_back(tag + std::to_string(first + i));
  b.tiles.push_back({TileId{0, first / 256}, std::string(32 * ((first + n) % 256 == 0 ? 256 : (first + n) % 256), 't')});
  b.checkpoint = "checkpoint at " + std::to_string(first + n) + "\n";
  return b;
}

TEST_P(StoreConformance, EmptyStore) {
  ScopedTempDir dir("cairn-store");
  auto store = GetParam().open(dir.path()).value();
  EXPECT_EQ(store->Size().value(), 0u);
  EXPECT_EQ(store->Entry(0).status().code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(store->Entries(0, 10).value().empty());
  EXPECT_EQ(store->LatestCheckpoint().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->Tile(TileId{0, 0}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetSetting("origin").status().code(), StatusCode::kNotFound);
}

TEST_P(StoreConformance, AppendsAreSequentialAndReadable) {
  ScopedTempDir dir("cairn-store");
  auto store = GetParam().open(dir.path()).value();
  ASSERT_TRUE(store->Append(Batch(0, 3, "e")).ok());
  ASSERT_TRUE(store->Append(Batch(3, 2, "e")).ok());
  EXPECT_EQ(store->Size().value(), 5u);
  EXPECT_EQ(store->Entry(4).value(), "e4");
  auto range = store->Entries(1, 3).value();
  ASSERT_EQ(range.size(), 3u);
  EXPECT_EQ(range[0], "e1");
  EXPECT_EQ(range[2], "e3");
  EXPECT_EQ(store->Entries(3, 100).value().size(), 2u);
  EXPECT_EQ(store->LatestCheckpoint().value(), "checkpoint at 5\n");
  EXPECT_EQ(store->Tile(TileId{0, 0}).value().size(), 5u * 32);  // replaced, not appended
  EXPECT_EQ(store->AllTiles().value().size(), 1u);
}

TEST_P(StoreConformance, OutOfOrderBatchIsRefusedAndStoresNothing) {
  ScopedTempDir dir("cairn-store");
  auto store = GetParam().open(dir.path()).value();
  ASSERT_TRUE(store->Append(Batch(0, 2, "e")).ok());
  EXPECT_EQ(store->Append(Batch(5, 1, "x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Append(Batch(1, 1, "x")).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Size().value(), 2u);
  EXPECT_EQ(store->Entry(1).value(), "e1");
  EXPECT_EQ(store->LatestCheckpoint().value(), "checkpoint at 2\n");
}

TEST_P(StoreConformance, BinaryEntriesAndSettingsRoundTrip) {
  ScopedTempDir dir("cairn-store");
  auto store = GetParam().open(dir.path()).value();
  LedgerBatch b;
  b.entries.push_back(std::string("\0\x01\xff\0", 4));
  b.checkpoint = "c\n";
  ASSERT_TRUE(store->Append(b).ok());
  EXPECT_EQ(store->Entry(0).value(), std::string("\0\x01\xff\0", 4));
  ASSERT_TRUE(store->PutSetting("origin", "cairn.test/log").ok());
  ASSERT_TRUE(store->PutSetting("origin", "cairn.test/log2").ok());
  EXPECT_EQ(store->GetSetting("origin").value(), "cairn.test/log2");
}

TEST_P(StoreConformance, ReopenedStoreHasEverythingAcknowledged) {
  if (!GetParam().persistent) GTEST_SKIP() << GetParam().name << " does not persist across opens";
  ScopedTempDir dir("cairn-store");
  {
    auto store = GetParam().open(dir.path()).value();
    for (uint64_t i = 0; i < 600; i += 100) ASSERT_TRUE(store->Append(Batch(i, 100, "e")).ok());
    ASSERT_TRUE(store->PutSetting("origin", "o").ok());
  }
  auto store = GetParam().open(dir.path()).value();
  EXPECT_EQ(store->Size().value(), 600u);
  EXPECT_EQ(store->Entry(599).value(), "e599");
  EXPECT_EQ(store->LatestCheckpoint().value(), "checkpoint at 600\n");
  EXPECT_EQ(store->GetSetting("origin").value(), "o");
  EXPECT_TRUE(store->Append(Batch(600, 1, "e")).ok());
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info) { return info.param.name; }

}  // namespace cairn::ledger
