// The coordinator's view of its ledger, fed entries in log order: receipt
// identities and hashes (how resends are recognised), placements,
// checkpoints that never move back, models by name, training progress.
#include "coordinator/ledger_view.h"

#include <gtest/gtest.h>

#include "ledger/entry.h"
#include "runtime/crypto/ed25519.h"

namespace cairn::coordinator {
namespace {

using Body = ledger::schema::LedgerEntry::Body;

class LedgerViewTest : public ::testing::Test {
 protected:
  std::string Receipt(uint32_t attempt, uint64_t round, uint64_t samples) {
    return ledger::MakeEntry(worker_, 1, [&](Body::Builder b) {
             auto s = b.initStepReceipt();
             s.setJobId("j");
             s.setAttempt(attempt);
             s.setRound(round);
             s.setSteps(1);
             s.setFingerprintBefore(ledger::AsData(std::string(32, 'b')));
             s.setFingerprintAfter(ledger::AsData(std::string(32, 'a')));
             s.setLoss(0.5);
             auto c = s.initConsumed(1);
             c[0].setDatasetId(ledger::AsData(std::string(32, 'd')));
             c[0].setSamples(samples);
           }).value();
  }
  std::string Checkpoint(uint32_t attempt, uint64_t round, char blob) {
    return ledger::MakeEntry(worker_, 1, [&](Body::Builder b) {
             auto c = b.initCheckpointCommitted();
             c.setJobId("j");
             c.setAttempt(attempt);
             c.setRound(round);
             c.setBlobHash(ledger::AsData(std::string(32, blob)));
             c.setFingerprint(ledger::AsData(std::string(32, 'f')));
           }).value();
  }
  Ed25519PrivateKey worker_ = Ed25519PrivateKey::Generate().value();
  Ed25519PrivateKey op_ = Ed25519PrivateKey::Generate().value();
  MetricsRegistry metrics_;
  LedgerView view_{&metrics_};
  uint64_t next_ = 0;
  void Apply(const std::string& e) { view_.Apply(next_++, e); }
};

TEST_F(LedgerViewTest, KnowsEveryReceiptByBytesAndByIdentity) {
  const std::string r = Receipt(1, 3, 64);
  EXPECT_FALSE(view_.Contains(r));
  Apply(r);
  EXPECT_TRUE(view_.Contains(r));
  const std::string key = worker_.public_key().bytes();
  auto hash = view_.Receipt(ReceiptId{"j", 1, 3, key});
  ASSERT_TRUE(hash.has_value());
  EXPECT_FALSE(view_.Receipt(ReceiptId{"j", 2, 3, key}).has_value()) << "another attempt is another identity";
  EXPECT_FALSE(view_.Contains(Receipt(1, 3, 65))) << "other bytes";
  Apply(Receipt(1, 4, 36));
  EXPECT_EQ(view_.applied(), 2u);
  auto p = view_.Progress().at("j");
  EXPECT_EQ(p.round, 4u);
  EXPECT_EQ(p.samples, 100u);
  EXPECT_EQ(p.receipts, 2u);
  const std::string text = metrics_.Render();
  EXPECT_NE(text.find("cairn_train_samples_total{job=\"j\"} 100"), std::string::npos) << text;
  EXPECT_NE(text.find("cairn_step_receipts_total 2"), std::string::npos) << text;
}

TEST_F(LedgerViewTest, PlacementsSubmissionsCheckpointsAndModels) {
  Apply(ledger::MakeEntry(op_, 1, [](Body::Builder b) {
          auto j = b.initJobSubmitted();
          j.setJobId("j");
          j.setSpecHash(ledger::AsData(std::string(32, 's')));
        }).value());
  Apply(ledger::MakeEntry(op_, 1, [&](Body::Builder b) {
          auto p = b.initJobPlaced();
          p.setJobId("j");
          p.setAttempt(2);
          auto w = p.initWorkers(1);
          w[0].setWorker(ledger::AsData(worker_.public_key().bytes()));
        }).value());
  EXPECT_TRUE(view_.Submitted("j"));
  EXPECT_FALSE(view_.Submitted("k"));
  EXPECT_TRUE(view_.Placed("j", 2, worker_.public_key().bytes()));
  EXPECT_FALSE(view_.Placed("j", 1, worker_.public_key().bytes()));
  EXPECT_EQ(view_.LastPlacedAttempt("j"), 2u);
  EXPECT_EQ(view_.LastPlacedAttempt("never-placed"), 0u);
  Apply(Checkpoint(2, 10, 'x'));
  Apply(Checkpoint(1, 8, 'y'));   // a late copy from an older attempt
  EXPECT_EQ(view_.Checkpoint("j")->round, 10u) << "never moves back";
  EXPECT_EQ(view_.Checkpoint("j")->blob, std::string(32, 'x'));
  Apply(Checkpoint(3, 10, 'z'));  // the same round, redone in a later attempt
  EXPECT_EQ(view_.Checkpoint("j")->blob, std::string(32, 'z'));
  // By round: what a requeued attempt planned to resume from.
  EXPECT_EQ(view_.Checkpoint("j", 8)->blob, std::string(32, 'y'));
  EXPECT_EQ(view_.Checkpoint("j", 10)->blob, std::string(32, 'z')) << "the latest attempt's copy of a round";
  EXPECT_FALSE(view_.Checkpoint("j", 9).has_value());
  EXPECT_FALSE(view_.Checkpoint("other", 8).has_value());
  for (char h : {'1', '2'}) {
    Apply(ledger::MakeEntry(worker_, 1, [&](Body::Builder b) {
            auto m = b.initModelRegistered();
            m.setName("gpt");
            m.setModelHash(ledger::AsData(std::string(32, h)));
            m.setJobId("j");
            m.setLicense("MIT");
          }).value());
  }
  ASSERT_TRUE(view_.Model("gpt").has_value());
  EXPECT_EQ(view_.Model("gpt")->blob, std::string(32, '2')) << "the later registration wins";
  EXPECT_EQ(view_.Model("gpt")->author, worker_.public_key().bytes()) << "no author named: the signer";
  EXPECT_EQ(view_.Models().size(), 1u);
}

}  // namespace
}  // namespace cairn::coordinator
