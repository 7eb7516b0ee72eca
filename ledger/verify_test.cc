// The read API on a real loopback HTTP server, and `verify` over both the
// API and a local SQLite file — including tamper tests: one changed byte in
// an entry, a stored hash or the checkpoint signature is found and named.
#include "ledger/verify.h"

#include <filesystem>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "ledger/http_api.h"
#include "ledger/log.h"
#include "ledger/sqlite_store.h"
#include "ledger/tile_path.h"
#include "runtime/base/encoding.h"
#include "runtime/base/temp_dir.h"

namespace cairn::ledger {
namespace {

constexpr uint64_t kEntries = 700;  // two full tiles and a partial one at level 0

class VerifyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new ScopedTempDir("cairn-verify");
    key_ = new Ed25519PrivateKey(Ed25519PrivateKey::Generate().value());
    auto actor = Ed25519PrivateKey::Generate().value();
    LogOptions options;
    options.origin = "cairn.test/verify";
    log_ = Log::Open(SqliteStore::Open(dir_->path() + "/ledger.db").value(), *key_, options).value().release();
    std::vector<std::string> entries;
    for (uint64_t i = 0; i < kEntries; ++i) {
      if (i % 7 == 0) {
        entries.push_back(MakeEntry(*key_, 1, [&](auto b) {
                            auto c = b.initAccountCredited();
                            c.setAccount(AsData(actor.public_key().bytes()));
                            c.setAmountMicros(1000 + i);
                          }).value());
      } else {
        entries.push_back(MakeEntry(actor, 1, [&](auto b) { b.initTest().setSequence(i); }).value());
      }
    }
    for (size_t i = 0; i < entries.size(); i += 100) {
      ASSERT_TRUE(log_->AppendAll({entries.begin() + i, entries.begin() + std::min(entries.size(), i + 100)}).ok());
    }
    server_ = new httplib::Server();
    InstallReadApi(server_, log_);
    port_ = server_->bind_to_any_port("127.0.0.1");
    thread_ = new std::thread([] { server_->listen_after_bind(); });
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete log_;
    delete key_;
    delete dir_;
  }
  static std::string Url() { return "http://127.0.0.1:" + std::to_string(port_); }
  // A copy of the database with `sql` applied, opened as a reader.
  static StatusOr<VerifyReport> VerifyTampered(const std::string& sql) {
    ScopedTempDir copy("cairn-tamper");
    std::string path = copy.path() + "/ledger.db";
    // The log is idle, so the database file plus its WAL is a consistent copy.
    std::filesystem::copy_file(dir_->path() + "/ledger.db", path);
    if (std::filesystem::exists(dir_->path() + "/ledger.db-wal")) {
      std::filesystem::copy_file(dir_->path() + "/ledger.db-wal", path + "-wal");
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    EXPECT_EQ(sqlite3_changes(db), 1);
    sqlite3_close(db);
    auto store = SqliteStore::Open(path).value();
    auto reader = NewStoreReader(store.get(), path);
    return VerifyLog(*reader, log_->verifier());
  }

  static ScopedTempDir* dir_;
  static Ed25519PrivateKey* key_;
  static Log* log_;
  static httplib::Server* server_;
  static std::thread* thread_;
  static int port_;
};
ScopedTempDir* VerifyTest::dir_;
Ed25519PrivateKey* VerifyTest::key_;
Log* VerifyTest::log_;
httplib::Server* VerifyTest::server_;
std::thread* VerifyTest::thread_;
int VerifyTest::port_;

TEST_F(VerifyTest, WholeLogVerifiesOverHttpAndLocally) {
  auto http = NewHttpReader(Url()).value();
  auto report = VerifyLog(*http, log_->verifier());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->entries, kEntries);
  EXPECT_EQ(report->checkpoint.size, kEntries);
  EXPECT_GE(report->tiles_compared, 4u);
  EXPECT_EQ(report->payouts->total_credited(), report->payouts->available().begin()->second);

  auto local = NewStoreReader(&log_->store(), "local");
  auto again = VerifyLog(*local, log_->verifier());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_GT(again->tiles_compared, report->tiles_compared);  // locally every level is stored
  // Under another log's key nothing verifies.
  auto other = NoteVerifier::For("cairn.test/verify", Ed25519PrivateKey::Generate()->public_key()).value();
  EXPECT_EQ(VerifyLog(*http, other).status().code(), StatusCode::kUnauthenticated);
}

TEST_F(VerifyTest, ReadApiServesTlogTiles) {
  httplib::Client c(Url());
  auto cp = c.Get("/checkpoint");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->status, 200);
  EXPECT_EQ(cp->body, log_->checkpoint());
  auto full = c.Get("/tile/0/000");
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->body.size(), 256u * 32);
  EXPECT_EQ(full->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(c.Get("/tile/0/002.p/188")->body.size(), 188u * 32);
  EXPECT_EQ(c.Get("/tile/0/002")->status, 404);        // not full yet
  EXPECT_EQ(c.Get("/tile/0/002.p/189")->status, 404);  // past the end
  EXPECT_EQ(c.Get("/tile/1/000.p/2")->body.size(), 64u);  // level 1 = tree level 8
  EXPECT_EQ(c.Get("/tile/0/0")->status, 400);
  EXPECT_EQ(c.Get("/tile/entries/x000/001")->status, 400);
  // Regression: an error message quoting invalid UTF-8 made the JSON encoder
  // throw, which httplib turned into a 500.
  EXPECT_EQ(c.Get("/tile/%ff%fe/000")->status, 400);
  auto bundle = c.Get("/tile/entries/001");
  ASSERT_TRUE(bundle);
  ASSERT_EQ(bundle->status, 200);
  size_t pos = 0, count = 0;
  while (pos < bundle->body.size()) {
    size_t n = static_cast<unsigned char>(bundle->body[pos]) << 8 | static_cast<unsigned char>(bundle->body[pos + 1]);
    EXPECT_EQ(bundle->body.substr(pos + 2, n), log_->store().Entry(256 + count).value());
    pos += 2 + n;
    ++count;
  }
  EXPECT_EQ(count, 256u);
}

TEST_F(VerifyTest, EntryJsonCarriesAProofThatVerifies) {
  httplib::Client c(Url());
  auto res = c.Get("/entry/123");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["decoded"]["type"], "test");
  auto cp = OpenCheckpoint(j["checkpoint"].get<std::string>(), log_->verifier()).value();
  std::vector<std::string> proof;
  for (const auto& h : j["inclusion_proof"]) proof.push_back(Base64Decode(h.get<std::string>()).value());
  std::string leaf = Base64Decode(j["leaf_hash"].get<std::string>()).value();
  EXPECT_TRUE(VerifyInclusion(123, cp.size, leaf, proof, HashBytes(cp.root)).ok());
  EXPECT_EQ(c.Get("/entry/999999")->status, 404);
  EXPECT_EQ(c.Get("/entry/abc")->status, 400);

  auto cons = c.Get("/proof/consistency?from=100&to=700");
  ASSERT_TRUE(cons);
  ASSERT_EQ(cons->status, 200) << cons->body;
  auto cj = nlohmann::json::parse(cons->body);
  std::vector<std::string> cproof;
  for (const auto& h : cj["proof"]) cproof.push_back(Base64Decode(h.get<std::string>()).value());
  EXPECT_TRUE(VerifyConsistency(100, 700, HashBytes(log_->Root(100).value()), HashBytes(cp.root), cproof).ok());
  EXPECT_EQ(c.Get("/proof/consistency?from=0")->status, 400);
  EXPECT_EQ(c.Get("/proof/consistency?from=5&to=9999")->status, 404);
}

// Malformed input: random paths and queries get 400 or 404 (never a 500 or
// a dropped connection), and the server keeps answering.
TEST_F(VerifyTest, RandomRequestsAreRefusedCleanly) {
  httplib::Client c(Url());
  std::mt19937_64 rng(11);
  const std::string alphabet = "0123456789x/.pentrycoksgfm?=&%-";
  const char* prefixes[] = {"/tile/", "/tile/entries/", "/entry/", "/proof/consistency?from=", "/"};
  for (int i = 0; i < 2000; ++i) {
    std::string path = prefixes[rng() % 5];
    for (size_t n = rng() % 30; n > 0; --n) path += alphabet[rng() % alphabet.size()];
    auto res = c.Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_TRUE(res->status == 200 || res->status == 400 || res->status == 404) << path << " -> " << res->status;
  }
  auto cp = c.Get("/checkpoint");
  ASSERT_TRUE(cp);
  EXPECT_EQ(cp->status, 200);
}

TEST_F(VerifyTest, TamperedEntryIsNamed) {
  auto r = VerifyTampered("UPDATE entries SET data = substr(data, 1, 30) || CASE WHEN substr(data, 31, 1) = x'00' THEN x'01' ELSE x'00' END || substr(data, 32) WHERE idx = 123");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("entry 123"), std::string::npos) << r.status();
}

TEST_F(VerifyTest, TamperedHashIsNamed) {
  auto r = VerifyTampered(
      "UPDATE tiles SET hashes = substr(hashes, 1, 100) || CASE WHEN substr(hashes, 101, 1) = x'00' THEN x'01' ELSE x'00' END || substr(hashes, 102) WHERE level = 0 AND idx = 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hash tile 0/1 is wrong at hash 3"), std::string::npos) << r.status();
  auto upper = VerifyTampered(
      "UPDATE tiles SET hashes = substr(hashes, 1, 0) || CASE WHEN substr(hashes, 1, 1) = x'00' THEN x'01' ELSE x'00' END || substr(hashes, 2) WHERE level = 5 AND idx = 0");
  ASSERT_FALSE(upper.ok());
  EXPECT_NE(upper.status().message().find("hash tile 5/0"), std::string::npos) << upper.status();
}

TEST_F(VerifyTest, TamperedCheckpointSignatureIsNamed) {
  // The signature line's last base64 group sits just before the final "\n".
  auto r = VerifyTampered(
      "UPDATE checkpoints SET note = substr(note, 1, length(note) - 6) || CASE WHEN substr(note, length(note) - 5, 4) = 'AAAA' THEN 'BBBB' ELSE 'AAAA' END || substr(note, length(note) - 1) "
      "WHERE size = (SELECT MAX(size) FROM checkpoints)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checkpoint"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace cairn::ledger
