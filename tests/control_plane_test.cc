// The control plane as users run it: a `cairn coordinator` process and three
// `cairn worker` processes on loopback, jobs submitted with `cairn submit`.
// A benchmark job for 2 workers is placed and completes; a worker killed
// with SIGKILL mid-job has its share requeued and the job still completes;
// malformed specs are refused with field-level messages; the ledger that
// recorded it all verifies. An allow-list refuses an unknown client.
#include <csignal>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "runtime/base/temp_dir.h"
#include "tests/local_cluster.h"
#include "runtime/base/subprocess.h"

namespace cairn {
namespace {

using testing::CliRun;
using testing::Json;

class ControlPlane : public ::testing::Test, public testing::LocalCluster {
 protected:
  ControlPlane() : LocalCluster(CAIRN_BINARY, "cairn-control") {}
  void SetUp() override {
    std::ofstream(dir_.path() + "/bench.yaml")
        << "name: bench\nkind: benchmark\nresources: {workers: 2}\nbenchmark: {seconds: 2}\nmax_retries: 3\n";
    // Long enough that a kill lands mid-job even on a loaded machine (a
    // sanitizer build's `cairn status` alone can take a second).
    std::ofstream(dir_.path() + "/long.yaml")
        << "name: long\nkind: benchmark\nresources: {workers: 2}\nbenchmark: {seconds: 12}\nmax_retries: 3\n";
  }
  // Submits long.yaml and returns the job's status once it has been running
  // for a moment (so that a kill lands mid-job); "" id on failure.
  nlohmann::json SubmitLongAndWaitRunning() {
    auto sub = Cairn({"submit", dir_.path() + "/long.yaml", "--json"});
    EXPECT_EQ(sub.code, 0) << sub.out;
    if (sub.code != 0) return {{"id", ""}};
    std::string id = Json(sub.out)["id"];
    // Running for a moment: both ranks have reported a measurement.
    EXPECT_TRUE(WaitLogs(id, [](const std::string& log) {
      const size_t first = log.find(" 1.0 s: ");
      return first != std::string::npos && log.find(" 1.0 s: ", first + 1) != std::string::npos;
    }, 30));
    nlohmann::json st = Status(id);
    EXPECT_EQ(st["state"], "running") << "the job is not running mid-job; a kill now would show nothing";
    st["id"] = id;
    return st;
  }



};

TEST_F(ControlPlane, JobsCompleteAndSurviveAKilledWorker) {
  auto coordinator = StartCoordinator();
  std::map<std::string, std::unique_ptr<testing::Subprocess>> workers;
  for (const char* n : {"w1", "w2", "w3"}) workers[n] = StartWorker(n);
  ASSERT_TRUE(WaitForWorkers(3));

  // 1. A 2-worker benchmark job is placed and completes; --follow exits 0.
  auto first = Cairn({"submit", dir_.path() + "/bench.yaml", "--follow"});
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("job succeeded"), std::string::npos) << first.out;

  // 2. Kill -9 one of the two placed workers mid-job: the job is requeued
  //    onto the spare worker and completes.
  nlohmann::json st = SubmitLongAndWaitRunning();
  std::string id = st["id"];
  ASSERT_EQ(st["state"], "running");
  std::string victim = st["workers"][0];
  bool killed = false;
  for (auto& [name, p] : workers) {
    if (ids_[name] == victim) {
      p->Signal(SIGKILL);
      EXPECT_EQ(p->Wait(), 128 + SIGKILL);
      killed = true;
    }
  }
  ASSERT_TRUE(killed) << "placed worker " << victim << " not found";
  auto follow = Cairn({"logs", id, "-f"});
  EXPECT_EQ(follow.code, 0);
  st = Status(id);
  EXPECT_EQ(st["state"], "succeeded") << follow.out;
  EXPECT_EQ(st["attempt"], 2);
  EXPECT_NE(follow.out.find("requeued (retry 1 of 3): lost worker"), std::string::npos) << follow.out;

  // Prometheus metrics on the coordinator's HTTP port.
  httplib::Client http("127.0.0.1", http_port_);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("cairn_placement_latency_seconds_count"), std::string::npos) << metrics->body;
  EXPECT_NE(metrics->body.find("cairn_heartbeats_received_total"), std::string::npos);
  EXPECT_NE(metrics->body.find("cairn_workers{state=\"alive\"} 2"), std::string::npos) << metrics->body;
  EXPECT_EQ(http.Get("/healthz")->status, 200);

  // 3. Malformed specs are refused, naming the field and line.
  std::ofstream(dir_.path() + "/bad.yaml") << "name: bad\nkind: benchmark\nresources:\n  workers: many\n";
  auto bad = Cairn({"submit", dir_.path() + "/bad.yaml"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("bad.yaml:4: resources.workers: must be an integer from 1 to 1024, got 'many'"),
            std::string::npos)
      << bad.out;
  auto jobs = Cairn({"jobs", "--json"});
  ASSERT_EQ(jobs.code, 0);
  EXPECT_EQ(Json(jobs.out).size(), 2u);

  // 4. Workers can leave cleanly; the ledger recorded submissions and
  //    placements and verifies.
  for (auto& [name, p] : workers) p->Signal(SIGTERM);
  for (auto& [name, p] : workers) p->Wait();
  auto verify = Cairn({"ledger", "verify", "http://127.0.0.1:" + std::to_string(http_port_), "--json"}, "client-home",
                      /*to_coordinator=*/false);
  ASSERT_EQ(verify.code, 0) << verify.out;
  EXPECT_GE(Json(verify.out)["entries"].get<int>(), 5);  // 2 submitted, 3 placed
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);
}

TEST_F(ControlPlane, CoordinatorKilledMidJobRestartsAndTheJobCompletes) {
  auto coordinator = StartCoordinator();
  auto w1 = StartWorker("w1");
  auto w2 = StartWorker("w2");
  ASSERT_TRUE(WaitForWorkers(2));
  nlohmann::json st = SubmitLongAndWaitRunning();
  std::string id = st["id"];
  ASSERT_EQ(st["state"], "running");
  coordinator->Signal(SIGKILL);
  EXPECT_EQ(coordinator->Wait(), 128 + SIGKILL);
  coordinator = StartCoordinator();  // same data dir, same ports, same key
  auto follow = Cairn({"logs", id, "-f"});
  EXPECT_EQ(follow.code, 0) << follow.out;
  st = Status(id);
  EXPECT_EQ(st["state"], "succeeded") << follow.out;
  EXPECT_NE(follow.out.find("the coordinator restarted"), std::string::npos) << follow.out;
  w1->Signal(SIGTERM);
  w2->Signal(SIGTERM);
  w1->Wait();
  w2->Wait();
  auto verify = Cairn({"ledger", "verify", "http://127.0.0.1:" + std::to_string(http_port_), "--json"}, "client-home",
                      /*to_coordinator=*/false);
  ASSERT_EQ(verify.code, 0) << verify.out;
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);
}

TEST_F(ControlPlane, AllowListRefusesUnknownClients) {
  // The only allowed identity is the one in "allowed-home".
  auto keys = Cairn({"keys", "new", "--json"}, "allowed-home", /*to_coordinator=*/false);
  ASSERT_EQ(keys.code, 0) << keys.out;
  auto j = Json(keys.out);
  std::ofstream(dir_.path() + "/allow") << j["ed25519_public"].get<std::string>() << "\n";
  auto coordinator = StartCoordinator({"--allow", dir_.path() + "/allow"});
  auto ok = Cairn({"jobs"}, "allowed-home");
  EXPECT_EQ(ok.code, 0) << ok.out;
  auto refused = Cairn({"jobs"}, "stranger-home");
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.out.find("PERMISSION_DENIED"), std::string::npos) << refused.out;
  coordinator->Signal(SIGTERM);
  EXPECT_EQ(coordinator->Wait(), 0);
}

}  // namespace
}  // namespace cairn
