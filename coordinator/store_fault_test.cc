// Fail-stop: the coordinator over a ledger store that fails its Nth write
// (or sync). The failed append is refused, every later one too, /readyz
// answers 503 naming the failure, and no balance moved for the refused
// entry; after a restart every acknowledged entry is there and the
// balances equal a replay of the ledger from scratch.
#include <httplib.h>
#include <gtest/gtest.h>

#include "coordinator/coordinator_server.h"
#include "ledger/fault_store.h"
#include "ledger/log_reader.h"
#include "ledger/verify.h"
#include "runtime/base/temp_dir.h"
#include "runtime/wire/client.h"

namespace cairn::coordinator {
namespace {

class StoreFault : public ::testing::TestWithParam<ledger::StoreFault> {
 protected:
  std::unique_ptr<CoordinatorServer> Start(bool faulty) {
    CoordinatorServerOptions o;
    o.coordinator.data_dir = dir_.path() + "/coord";
    if (faulty) {
      o.coordinator.wrap_store = [this](std::unique_ptr<ledger::LedgerStore> inner) {
        auto f = std::make_unique<ledger::FaultInjectingStore>(std::move(inner));
        store_ = f.get();
        return std::unique_ptr<ledger::LedgerStore>(std::move(f));
      };
    }
    auto s = CoordinatorServer::Start(o);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? std::move(s).value() : nullptr;
  }
  static httplib::Result Get(CoordinatorServer& s, const std::string& path) {
    httplib::Client c("127.0.0.1", s.http_port());
    return c.Get(path);
  }
  // The balances a fresh replay of the stored ledger gives.
  static std::unique_ptr<ledger::PayoutEngine> Replay(Coordinator& c) {
    auto reader = ledger::NewStoreReader(&c.ledger().store(), "test");
    auto report = ledger::VerifyLog(*reader, c.ledger().verifier());
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? std::move(report->payouts) : nullptr;
  }

  ScopedTempDir dir_{"cairn-store-fault"};
  ledger::FaultInjectingStore* store_ = nullptr;
  const std::string alice_ = std::string(32, 'a'), bob_ = std::string(32, 'b');
};

TEST_P(StoreFault, AFailedAppendStopsTheLedgerAndNothingAcknowledgedIsLost) {
  std::vector<uint64_t> acknowledged;
  {
    auto server = Start(/*faulty=*/true);
    ASSERT_NE(server, nullptr);
    Coordinator& c = server->coordinator();
    for (int i = 0; i < 5; ++i) {
      auto index = c.Credit(i % 2 ? bob_ : alice_, 1'000'000, "purchase " + std::to_string(i));
      ASSERT_TRUE(index.ok()) << index.status();
      acknowledged.push_back(*index);
    }
    EXPECT_EQ(c.balances().Available(alice_), 3'000'000);
    ASSERT_EQ(Get(*server, "/readyz")->status, 200);

    store_->FailAppend(1, GetParam());
    auto failed = c.Credit(alice_, 7'000'000, "lost to the disk");
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable) << failed.status();
    EXPECT_EQ(c.balances().Available(alice_), 3'000'000) << "no balance moved for the refused entry";
    // Stopped for good, though the store would take writes again.
    auto after = c.Credit(bob_, 1, "after");
    EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(c.balances().Available(bob_), 2'000'000);
    auto ready = Get(*server, "/readyz");
    ASSERT_TRUE(ready);
    EXPECT_EQ(ready->status, 503);
    EXPECT_NE(ready->body.find("injected fault"), std::string::npos) << ready->body;
    EXPECT_EQ(Get(*server, "/healthz")->status, 200) << "alive, only not ready";
    EXPECT_NE(Get(*server, "/metrics")->body.find("cairn_ledger_ready 0"), std::string::npos);
    // Clients are told why, before anything is kept.
    auto ctx = wire::WireContext::Create(wire::Enrollment::kOpen).value();
    auto client = wire::WireClient::Connect(
                      ctx.get(), wire::ClientOptions{c.endpoint(), c.curve_public_key(),
                                                     wire::CurveKeysOf(Ed25519PrivateKey::Generate().value()).value()})
                      .value();
    auto submit = client->Call(
        wire::ClientRequest{1, 0, wire::SubmitBody{"name: x\nkind: benchmark\nbenchmark: {seconds: 1}\n", "x.yaml", ""}}, 5000);
    EXPECT_EQ(submit.status().code(), StatusCode::kUnavailable) << submit.status();
    auto jobs = client->Call(wire::ClientRequest{2, 0, wire::ListJobsBody{}}, 5000);
    ASSERT_TRUE(jobs.ok());
    EXPECT_TRUE(std::get<wire::JobsBody>(jobs->body).jobs.empty()) << "a refused submission leaves no job";
  }

  auto server = Start(/*faulty=*/false);
  ASSERT_NE(server, nullptr);
  Coordinator& c = server->coordinator();
  EXPECT_EQ(Get(*server, "/readyz")->status, 200);
  const uint64_t size = c.ledger().size();
  for (uint64_t index : acknowledged) EXPECT_LT(index, size) << "acknowledged entry " << index << " is gone";
  // A write fault left nothing; a failed sync may have left the entry it was
  // writing (never acknowledged, so nobody was told either way).
  EXPECT_EQ(size, GetParam() == ledger::StoreFault::kWrite ? 5u : 6u);
  auto replayed = Replay(c);
  ASSERT_NE(replayed, nullptr);
  for (const std::string& account : {alice_, bob_}) {
    EXPECT_EQ(c.balances().Available(account), replayed->Available(account));
  }
  EXPECT_EQ(c.balances().Snapshot()->total_credited(), replayed->total_credited());
  EXPECT_TRUE(c.Credit(bob_, 1, "works again").ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, StoreFault, ::testing::Values(ledger::StoreFault::kWrite, ledger::StoreFault::kSync),
                         [](const auto& info) { return info.param == ledger::StoreFault::kWrite ? "Write" : "Sync"; });

}  // namespace
}  // namespace cairn::coordinator
