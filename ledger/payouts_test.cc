#include "ledger/payouts.h"

#include <random>

#include <gtest/gtest.h>

namespace cairn::ledger {
namespace {

using Builder = schema::LedgerEntry::Body::Builder;

struct World {
  Ed25519PrivateKey op = Ed25519PrivateKey::Generate().value();
  std::vector<Ed25519PrivateKey> people;
  World() {
    for (int i = 0; i < 8; ++i) people.push_back(Ed25519PrivateKey::Generate().value());
  }
  std::string Key(int i) const { return people[i].public_key().bytes(); }
};

std::string Make(const Ed25519PrivateKey& k, const BodyFiller& f) { return MakeEntry(k, 1, f).value(); }

std::string Credit(const World& w, int who, uint64_t micros) {
  return Make(w.op, [&](Builder b) {
    auto c = b.initAccountCredited();
    c.setAccount(AsData(w.Key(who)));
    c.setAmountMicros(micros);
  });
}
std::string Dataset(const World& w, int owner, char id, uint64_t price) {
  return Make(w.people[owner], [&](Builder b) {
    auto d = b.initDatasetRegistered();
    d.setDatasetId(AsData(std::string(32, id)));
    d.setName(std::string("ds-") + id);
    d.setChunks(1);
    d.setLicense("MIT");
    d.setPricePer1kSamplesMicros(price);
  });
}
std::string Submit(const World& w, int who, const std::string& job, uint64_t budget) {
  return Make(w.people[who], [&](Builder b) {
    auto j = b.initJobSubmitted();
    j.setJobId(job);
    j.setSpecHash(AsData(std::string(32, 's')));
    j.setBudgetMicros(budget);
  });
}
std::string Place(const World& w, const std::string& job, int worker, uint64_t price_per_hour) {
  return Make(w.op, [&](Builder b) {
    auto p = b.initJobPlaced();
    p.setJobId(job);
    auto ws = p.initWorkers(1);
    ws[0].setWorker(AsData(w.Key(worker)));
    ws[0].setPricePerHourMicros(price_per_hour);
  });
}
std::string Receipt(const World& w, int worker, const std::string& job, int64_t millis, char dataset,
                    uint64_t samples) {
  return Make(w.people[worker], [&](Builder b) {
    auto r = b.initStepReceipt();
    r.setJobId(job);
    r.setStartUnixMillis(1000);
    r.setEndUnixMillis(1000 + millis);
    auto c = r.initConsumed(1);
    c[0].setDatasetId(AsData(std::string(32, dataset)));
    c[0].setSamples(samples);
    r.setFingerprintBefore(AsData(std::string(32, 'a')));
    r.setFingerprintAfter(AsData(std::string(32, 'b')));
  });
}
// Registered by `signer`; `author` >= 0 names the author in the entry.
std::string Model(const World& w, int signer, char hash, const std::string& job, char parent = 0, int author = -1) {
  return Make(w.people[signer], [&](Builder b) {
    auto m = b.initModelRegistered();
    m.setName(std::string("model-") + hash);
    m.setModelHash(AsData(std::string(32, hash)));
    if (parent != 0) m.setParentModel(AsData(std::string(32, parent)));
    m.setJobId(job);
    m.setLicense("MIT");
    if (author >= 0) m.setAuthor(AsData(w.Key(author)));
  });
}
std::string Usage(const World& w, char model, int consumer, int worker, uint64_t charge, uint64_t worker_part) {
  return Make(w.op, [&](Builder b) {
    auto u = b.initInferenceUsage();
    u.setModel(AsData(std::string(32, model)));
    u.setConsumer(AsData(w.Key(consumer)));
    u.setWorker(AsData(w.Key(worker)));
    u.setRequests(1);
    u.setChargeMicros(charge);
    u.setWorkerMicros(worker_part);
  });
}
std::string Settle(const World& w, int who, uint64_t micros) {
  return Make(w.op, [&](Builder b) {
    auto s = b.initSettlement();
    s.setAccount(AsData(w.Key(who)));
    s.setAmountMicros(micros);
  });
}

TEST(Payouts, WorkedExample) {
  World w;  // 0 submitter, 1 data owner, 2 worker, 3 model author, 4 consumer, 5 fine-tuner
  PayoutEngine e(w.op.public_key().bytes());
  uint64_t i = 0;
  auto apply = [&](const std::string& entry) {
    Status s = e.Apply(i++, entry);
    EXPECT_TRUE(s.ok()) << s;
  };
  apply(Credit(w, 0, 10'000'000));
  apply(Dataset(w, 1, 'D', 2'000));           // 2,000 micro-credits per 1,000 samples
  apply(Submit(w, 0, "job-1", 1'000'000));    // 1 credit in escrow
  apply(Place(w, "job-1", 2, 3'600'000));     // 3.6 credits/hour = 1,000 per second
  apply(Receipt(w, 2, "job-1", 60'000, 'D', 50'000));  // 60 s -> 60,000; 50k samples -> 100,000
  EXPECT_EQ(e.Available(w.Key(2)), 60'000);
  EXPECT_EQ(e.Available(w.Key(1)), 100'000);
  EXPECT_EQ(e.total_escrow(), 1'000'000u - 160'000u);
  EXPECT_EQ(e.Available(w.Key(0)), 9'000'000);

  apply(Model(w, 3, 'M', "job-1"));
  apply(Credit(w, 4, 1'000'000));
  apply(Usage(w, 'M', 4, 2, 10'000, 1'000));  // 9,000 to the lineage: 30% data, 70% author
  EXPECT_EQ(e.Available(w.Key(4)), 990'000);
  EXPECT_EQ(e.Available(w.Key(2)), 61'000);
  EXPECT_EQ(e.Available(w.Key(1)), 100'000 + 2'700);
  EXPECT_EQ(e.Available(w.Key(3)), 6'300);

  apply(Model(w, 5, 'F', "", 'M'));          // a fine-tune of M: 20% goes up to M's own split
  apply(Usage(w, 'F', 4, 2, 10'000, 0));
  EXPECT_EQ(e.Available(w.Key(5)), 8'000);
  EXPECT_EQ(e.Available(w.Key(3)), 6'300 + 1'400);
  EXPECT_EQ(e.Available(w.Key(1)), 102'700 + 600);

  // Registered by worker 2 for submitter 0: the entry's author is paid, not its signer.
  apply(Model(w, 2, 'G', "job-1", 0, 0));
  const int64_t submitter_before = e.Available(w.Key(0)), worker_before = e.Available(w.Key(2));
  apply(Usage(w, 'G', 4, 5, 10'000, 0));  // 30% data, 70% author
  EXPECT_EQ(e.Available(w.Key(0)), submitter_before + 7'000);
  EXPECT_EQ(e.Available(w.Key(2)), worker_before);

  apply(Settle(w, 2, 61'000));
  EXPECT_EQ(e.Available(w.Key(2)), 0);
  EXPECT_TRUE(e.CheckInvariants().ok()) << e.CheckInvariants();
  EXPECT_FALSE(e.earnings().empty());
}

TEST(Payouts, RuleBreakingEntriesAreRefusedAndChangeNothing) {
  World w;
  PayoutEngine e(w.op.public_key().bytes());
  uint64_t i = 0;
  ASSERT_TRUE(e.Apply(i++, Credit(w, 0, 100)).ok());
  EXPECT_EQ(e.Apply(i++, Submit(w, 0, "big", 101)).code(), StatusCode::kFailedPrecondition);
  // Only the operator credits.
  auto self_credit = Make(w.people[0], [&](Builder b) {
    auto c = b.initAccountCredited();
    c.setAccount(AsData(w.Key(0)));
    c.setAmountMicros(1'000'000);
  });
  EXPECT_EQ(e.Apply(i++, self_credit).code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(e.Apply(i++, Dataset(w, 1, 'D', 1)).ok());
  ASSERT_TRUE(e.Apply(i++, Submit(w, 0, "j", 100)).ok());
  // A worker that was never placed cannot bill the job.
  EXPECT_EQ(e.Apply(i++, Receipt(w, 2, "j", 1000, 'D', 10)).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(e.Apply(i++, Settle(w, 0, 1)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(e.Apply(0, Credit(w, 0, 1)).code(), StatusCode::kInvalidArgument);  // out of order
  EXPECT_EQ(e.Available(w.Key(0)), 0);
  EXPECT_EQ(e.total_escrow(), 100u);
  EXPECT_TRUE(e.CheckInvariants().ok());
}

// Property test: random streams of entries, many of them rule-breaking.
// After every entry: no negative balance, credits conserved, no job paid
// past its budget; a refused entry changes nothing; and replaying the
// accepted entries elsewhere gives identical balances.
TEST(Payouts, RandomHistoriesConserveCreditsAndReplayIdentically) {
  for (int seed = 1; seed <= 8; ++seed) {
    std::mt19937_64 rng(seed);
    World w;
    PayoutEngine e(w.op.public_key().bytes());
    std::vector<std::string> accepted;
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
    std::vector<std::string> jobs;
    std::vector<char> models;
    for (int step = 0; step < 250; ++step) {
      std::string entry;
      switch (pick(9)) {
        case 0: entry = Credit(w, pick(8), 1 + rng() % 5'000'000); break;
        case 1: entry = Dataset(w, pick(8), static_cast<char>('A' + pick(6)), rng() % 10'000); break;
        case 2: {
          std::string job = "job-" + std::to_string(pick(12));
          jobs.push_back(job);
          entry = Submit(w, pick(8), job, rng() % 3'000'000);
          break;
        }
        case 3: entry = Place(w, jobs.empty() ? "none" : jobs[pick(jobs.size())], pick(8), rng() % 10'000'000); break;
        case 4:
          entry = Receipt(w, pick(8), jobs.empty() ? "none" : jobs[pick(jobs.size())], rng() % 3'600'000,
                          static_cast<char>('A' + pick(6)), rng() % 1'000'000);
          break;
        case 5: {
          char m = static_cast<char>('a' + pick(10));
          char parent = models.empty() || pick(2) == 0 ? 0 : models[pick(models.size())];
          models.push_back(m);
          entry = Model(w, pick(8), m, jobs.empty() || pick(3) == 0 ? "" : jobs[pick(jobs.size())], parent);
          break;
        }
        case 6: {
          uint64_t charge = rng() % 2'000'000;
          entry = Usage(w, models.empty() ? 'z' : models[pick(models.size())], pick(8), pick(8), charge,
                        charge == 0 ? 0 : rng() % charge);
          break;
        }
        case 7: entry = Settle(w, pick(8), 1 + rng() % 2'000'000); break;
        default: entry = Make(w.people[pick(8)], [](Builder b) { b.initTest().setSequence(1); }); break;
      }
      auto before = e.available();
      uint64_t escrow_before = e.total_escrow(), settled_before = e.total_settled();
      Status s = e.Apply(static_cast<uint64_t>(step), entry);
      if (s.ok()) {
        accepted.push_back(entry);
      } else {
        ASSERT_EQ(e.available(), before) << s;
        ASSERT_EQ(e.total_escrow(), escrow_before);
        ASSERT_EQ(e.total_settled(), settled_before);
      }
      Status inv = e.CheckInvariants();
      ASSERT_TRUE(inv.ok()) << "seed " << seed << " step " << step << ": " << inv;
    }
    ASSERT_GT(accepted.size(), 50u);
    PayoutEngine replay(w.op.public_key().bytes());
    for (size_t i = 0; i < accepted.size(); ++i) ASSERT_TRUE(replay.Apply(i, accepted[i]).ok());
    EXPECT_EQ(replay.available(), e.available());
    EXPECT_EQ(replay.total_escrow(), e.total_escrow());
    EXPECT_EQ(replay.earnings().size(), e.earnings().size());
  }
}

}  // namespace
}  // namespace cairn::ledger
