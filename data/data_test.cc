// Datasets end to end on real parts: builders over Fashion-MNIST (Debian's
// dataset-fashion-mnist) and tinyshakespeare, a real ledger data dir, the
// registry behind a real HTTP server on loopback, and DataClient uploading,
// registering, fetching and caching. Plus malformed manifests and blobs.
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "data/builder.h"
#include "data/data_client.h"
#include "data/http_api.h"
#include "data/loopback_data_plane.h"
#include "ledger/data_dir.h"
#include "ledger/entry.h"
#include "runtime/base/clock.h"
#include "runtime/base/encoding.h"
#include "runtime/base/temp_dir.h"
#include "runtime/base/test_data.h"

namespace cairn::data {
namespace {

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

std::string SignedEntry(const Ed25519PrivateKey& key, const Manifest& m) {
  return LoopbackDataPlane::SignedEntry(key, m);
}

TEST(Builder, FashionMnistIsTwoSplitsOfWholeRecords) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto built = BuildDataset(kFashion, Format::kIdx);
  ASSERT_TRUE(built.ok()) << built.status();
  const Manifest& m = built->manifest;
  EXPECT_EQ(m.record_bytes, 785u);
  ASSERT_EQ(m.splits.size(), 2u);
  EXPECT_EQ(m.splits[0].samples, 60000u);
  EXPECT_EQ(m.splits[1].samples, 10000u);
  for (const auto& c : m.splits[0].chunks) EXPECT_LE(c.bytes, kChunkBytes);
  EXPECT_EQ(built->chunks.size(), m.TotalChunks());
  // The first record of the training set is an ankle boot (label 9).
  EXPECT_EQ(static_cast<uint8_t>(built->chunks[0][0]), 9);
  // Same files, same id.
  auto again = BuildDataset(kFashion, Format::kIdx);
  EXPECT_EQ(DatasetId(again->manifest), DatasetId(m));
}

TEST(Builder, TextAndErrors) {
  auto built = BuildDataset(SharedDataDir() + "/tinyshakespeare/input.txt", Format::kText);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->manifest.splits[0].samples, 1115394u);
  EXPECT_EQ(built->chunks.size(), 2u);
  auto missing = BuildDataset("/nonexistent/file.txt", Format::kText);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ScopedTempDir tmp;
  auto not_idx = BuildDataset(tmp.path(), Format::kIdx);
  EXPECT_NE(not_idx.status().message().find("train-images-idx3-ubyte"), std::string::npos) << not_idx.status();
}

TEST(Manifest, RoundTripsAndRejectsMalformedInput) {
  auto built = BuildDataset(SharedDataDir() + "/tinyshakespeare/input.txt", Format::kText);
  ASSERT_TRUE(built.ok());
  built->manifest.name = "shakespeare";
  built->manifest.license = "CC0-1.0";
  const std::string json = ManifestToJson(built->manifest);
  auto parsed = ParseManifest(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(DatasetId(*parsed), DatasetId(built->manifest));
  // A changed chunk hash breaks the id; so does a changed sample count.
  std::string tampered = json;
  tampered[tampered.find("\"hash\": \"") + 9] ^= 1;
  EXPECT_FALSE(ParseManifest(tampered).ok());
  // Random mutations: never a crash, and an accepted manifest is consistent.
  std::mt19937_64 rng(3);
  for (int i = 0; i < 3000; ++i) {
    std::string m = json;
    for (int k = 0; k < 3; ++k) m[rng() % m.size()] = static_cast<char>(rng());
    auto r = ParseManifest(m);
    if (r.ok()) {
      EXPECT_EQ(DatasetId(*r), DatasetId(*parsed));
    }
  }
  EXPECT_FALSE(ParseManifest("").ok());
  EXPECT_FALSE(ParseManifest("[]").ok());
  EXPECT_NE(ParseManifest("{\"version\": 1}").status().message().find("name"), std::string::npos);
}

TEST(BlobStore, VerifiesOnWriteAndRead) {
  ScopedTempDir tmp;
  auto store = BlobStore::Open(tmp.path());
  ASSERT_TRUE(store.ok());
  auto h = store->Put("hello");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*store->Get(*h), "hello");
  EXPECT_FALSE(store->PutExpecting(*h, "jello").ok());
  // A flipped byte on disk is DataLoss, not data.
  {
    std::FILE* f = std::fopen(store->PathOf(*h).c_str(), "r+b");
    std::fputc('j', f);
    std::fclose(f);
  }
  EXPECT_EQ(store->Get(*h).status().code(), StatusCode::kDataLoss);
}

class DataPlane : public ::testing::Test {
 protected:
  LoopbackDataPlane plane_;
  ledger::Log* log_ = &plane_.log();
  const int port_ = plane_.port();
  const std::string dir_path_ = plane_.dir();
};

TEST_F(DataPlane, UploadRegisterFetchVerifyAndCache) {
  auto built = BuildDataset(SharedDataDir() + "/tinyshakespeare/input.txt", Format::kText);
  ASSERT_TRUE(built.ok());
  Manifest m = built->manifest;
  m.name = "shakespeare";
  m.license = "CC0-1.0";
  m.price_per_1k_micros = 10;
  const auto contributor = *Ed25519PrivateKey::Generate();
  DataClient client("127.0.0.1", port_, "");
  // Registering before uploading names the missing chunk.
  auto early = client.Register(m, SignedEntry(contributor, m));
  EXPECT_EQ(early.status().code(), StatusCode::kFailedPrecondition) << early.status();
  size_t calls = 0;
  ASSERT_TRUE(client.UploadAll(built->chunks, [&](size_t, size_t, uint64_t) { ++calls; }).ok());
  EXPECT_EQ(calls, built->chunks.size());
  const uint64_t before = log_->size();
  auto index = client.Register(m, SignedEntry(contributor, m));
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(log_->size(), before + 1);
  // An entry whose fields disagree with the manifest is refused, naming the field.
  Manifest other = m;
  other.price_per_1k_micros = 11;
  auto bad = client.Register(m, SignedEntry(contributor, other));
  EXPECT_NE(bad.status().message().find("price"), std::string::npos) << bad.status();
  // The name now belongs to this data.
  Manifest renamed = m;
  renamed.splits[0].chunks.pop_back();
  renamed.splits[0].samples = renamed.splits[0].chunks.back().first_sample + renamed.splits[0].chunks.back().samples;
  EXPECT_EQ(client.Register(renamed, SignedEntry(contributor, renamed)).status().code(), StatusCode::kAlreadyExists);

  // A worker: manifest by name, chunks verified and cached.
  ScopedTempDir cache;
  DataClient worker("127.0.0.1", port_, cache.path());
  auto got = worker.GetManifest("shakespeare");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(DatasetId(*got), DatasetId(m));
  auto chunk = worker.GetBlob(got->splits[0].chunks[1].hash);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(*chunk, built->chunks[1]);
  EXPECT_TRUE(worker.GetBlob(got->splits[0].chunks[1].hash).ok());
  EXPECT_EQ(worker.cache_hits(), 1u);
  EXPECT_EQ(worker.bytes_fetched(), built->chunks[1].size());
  // A registry rebuilt from the ledger (a restart) knows the name again, and
  // finds its manifest by the hash the entry names.
  auto reopened = DatasetRegistry::Open(dir_path_ + "/coord");
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Find("shakespeare").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*reopened)->Rebuild(log_->store()).ok());
  ASSERT_TRUE((*reopened)->Find("shakespeare").ok());
  auto manifest = (*reopened)->LoadManifest("shakespeare");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(DatasetId(*manifest), DatasetId(m));
}

// A registration from before entries named their manifest is found again
// through the datasets.json an older coordinator left; without it (or with a
// damaged one) it is simply not indexed, and nothing else is lost.
TEST_F(DataPlane, EntriesWithoutAManifestHashUseTheOlderIndex) {
  const auto contributor = *Ed25519PrivateKey::Generate();
  const std::string id(32, 'i'), manifest(32, 'm');
  auto entry = ledger::MakeEntry(contributor, Clock::System()->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
    auto d = b.initDatasetRegistered();
    d.setDatasetId(ledger::AsData(id));
    d.setName("old-data");
    d.setFormat("text");
    d.setLicense("CC-BY-4.0");
    d.setSizeBytes(100);
    d.setChunks(1);
    d.setSamples(100);
  });
  ASSERT_TRUE(entry.ok()) << entry.status();
  ASSERT_TRUE(log_->Append(*entry).ok());
  const std::string dir = dir_path_ + "/coord";
  {
    auto none = DatasetRegistry::Open(dir).value();
    ASSERT_TRUE(none->Rebuild(log_->store()).ok());
    EXPECT_EQ(none->Find("old-data").status().code(), StatusCode::kNotFound);
  }
  {
    std::ofstream(dir + "/datasets.json") << "{damaged";
    auto damaged = DatasetRegistry::Open(dir);
    ASSERT_TRUE(damaged.ok()) << damaged.status();
    ASSERT_TRUE((*damaged)->Rebuild(log_->store()).ok());
    EXPECT_EQ((*damaged)->Find("old-data").status().code(), StatusCode::kNotFound);
  }
  std::ofstream(dir + "/datasets.json") << "[{\"name\": \"old-data\", \"id\": \"" << HexEncode(id) << "\", \"manifest\": \""
                                        << HexEncode(manifest) << "\", \"contributor\": \"00\", \"ledger_index\": 0}]";
  auto legacy = DatasetRegistry::Open(dir).value();
  ASSERT_TRUE(legacy->Rebuild(log_->store()).ok());
  auto found = legacy->Find("old-data");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(std::string(DigestView(found->manifest_hash)), manifest);
  EXPECT_EQ(found->contributor, contributor.public_key().bytes()) << "the ledger's signer, not the old file's";
}

TEST_F(DataPlane, MalformedRequestsGetClearErrors) {
  httplib::Client c("127.0.0.1", port_);
  auto wrong = c.Put("/blobs/" + std::string(64, 'a'), "data", "application/octet-stream");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_NE(wrong->body.find("does not hash"), std::string::npos);
  auto junk = c.Post("/datasets", "{not json", "application/json");
  EXPECT_EQ(junk->status, 400);
  auto missing = c.Get("/datasets/nope");
  EXPECT_EQ(missing->status, 404);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 300; ++i) {
    std::string body(rng() % 200, '\0');
    for (auto& ch : body) ch = "{}[]\":,abc0123 \\"[rng() % 16];
    auto r = c.Post("/datasets", body, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body;
  }
}

}  // namespace
}  // namespace cairn::data
