// The coordinator's own HTTP routes against a real coordinator on
// loopback: where a job resumes (/jobs/ID/checkpoint, by round too) and
// what a malformed query gets (400 naming the parameter, never a crash).
#include "coordinator/http_routes.h"

#include <chrono>
#include <thread>

#include <httplib.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "coordinator/coordinator_server.h"
#include "ledger/entry.h"
#include "runtime/base/clock.h"
#include "runtime/base/encoding.h"
#include "runtime/base/temp_dir.h"

namespace cairn::coordinator {
namespace {

class HttpRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorServerOptions o;
    o.coordinator.data_dir = dir_.path() + "/coord";
    auto s = CoordinatorServer::Start(o);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(s).value();
  }
  httplib::Result Get(const std::string& path) {
    httplib::Client c("127.0.0.1", server_->http_port());
    return c.Get(path);
  }
  // A worker-signed checkpointCommitted entry, appended to the ledger.
  void Commit(uint32_t attempt, uint64_t round, char blob) {
    auto entry = ledger::MakeEntry(worker_, Clock::System()->NowUnixMillis(), [&](ledger::schema::LedgerEntry::Body::Builder b) {
      auto c = b.initCheckpointCommitted();
      c.setJobId("job-1");
      c.setAttempt(attempt);
      c.setRound(round);
      c.setBlobHash(ledger::AsData(std::string(32, blob)));
      c.setFingerprint(ledger::AsData(std::string(32, 'f')));
      c.setSizeBytes(1024);
    });
    ASSERT_TRUE(entry.ok()) << entry.status();
    auto index = server_->coordinator().ledger().Append(*entry);
    ASSERT_TRUE(index.ok()) << index.status();
    // The view follows the log's commits.
    for (int i = 0; i < 500 && server_->coordinator().view().applied() < *index + 1; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ScopedTempDir dir_{"cairn-http-routes"};
  Ed25519PrivateKey worker_ = Ed25519PrivateKey::Generate().value();
  std::unique_ptr<CoordinatorServer> server_;
};

TEST_F(HttpRoutes, CheckpointIsTheFurthestOrTheOneOfTheRoundAsked) {
  auto none = Get("/jobs/job-1/checkpoint");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_NE(none->body.find("no checkpoint for job job-1"), std::string::npos) << none->body;

  Commit(1, 4, 'a');
  Commit(1, 8, 'b');
  auto furthest = Get("/jobs/job-1/checkpoint");
  ASSERT_TRUE(furthest);
  ASSERT_EQ(furthest->status, 200) << furthest->body;
  auto j = nlohmann::json::parse(furthest->body);
  EXPECT_EQ(j["round"], 8);
  EXPECT_EQ(j["attempt"], 1);
  EXPECT_EQ(j["blob"], HexEncode(std::string(32, 'b')));

  auto of4 = Get("/jobs/job-1/checkpoint?round=4");
  ASSERT_TRUE(of4);
  ASSERT_EQ(of4->status, 200) << of4->body;
  EXPECT_EQ(nlohmann::json::parse(of4->body)["blob"], HexEncode(std::string(32, 'a')));

  auto of5 = Get("/jobs/job-1/checkpoint?round=5");
  ASSERT_TRUE(of5);
  EXPECT_EQ(of5->status, 404);
  EXPECT_NE(of5->body.find("of round 5"), std::string::npos) << of5->body;
}

TEST_F(HttpRoutes, MalformedQueriesAreRefusedNamingWhatIsWrong) {
  for (const char* q : {"round=", "round=abc", "round=-1", "round=1e3", "round=99999999999999999999", "round=%00",
                        "round=4%20"}) {
    auto r = Get(std::string("/jobs/job-1/checkpoint?") + q);
    ASSERT_TRUE(r) << q;
    EXPECT_EQ(r->status, 400) << q << ": " << r->body;
    EXPECT_NE(r->body.find("round must be a non-negative integer"), std::string::npos) << q << ": " << r->body;
  }
  // Names outside the id alphabet match no route.
  for (const char* path : {"/jobs/../checkpoint", "/jobs/a%2Fb/checkpoint", "/jobs//checkpoint"}) {
    auto r = Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path;
  }
  auto models = Get("/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_EQ(Get("/models/nope")->status, 404);
}

}  // namespace
}  // namespace cairn::coordinator
