#include "ledger/entry.h"

#include <random>

#include <gtest/gtest.h>

#include "ledger/merkle.h"

namespace cairn::ledger {
namespace {

constexpr int64_t kNow = 1'764'000'000'000;

std::string Key32(char c) { return std::string(32, c); }

Ed25519PrivateKey NewKey() { return Ed25519PrivateKey::Generate().value(); }

std::string Receipt(const Ed25519PrivateKey& k, const std::string& dataset_id = Key32('d')) {
  return MakeEntry(k, kNow, [&](schema::LedgerEntry::Body::Builder b) {
           auto r = b.initStepReceipt();
           r.setJobId("job-1");
           r.setRound(3);
           r.setSteps(50);
           r.setStartUnixMillis(kNow - 1000);
           r.setEndUnixMillis(kNow);
           auto c = r.initConsumed(2);
           c[0].setDatasetId(AsData(dataset_id));
           c[0].setChunk(0);
           c[0].setSamples(640);
           c[1].setDatasetId(AsData(dataset_id));
           c[1].setChunk(1);
           c[1].setSamples(128);
           r.setFingerprintBefore(AsData(Key32('a')));
           r.setFingerprintAfter(AsData(Key32('b')));
           r.setLoss(0.42);
         })
      .value();
}

TEST(Entry, EveryTypeBuildsAndValidates) {
  auto k = NewKey();
  std::vector<BodyFiller> fillers = {
      [](auto b) { b.initTest().setSequence(1); },
      [](auto b) {
        auto c = b.initAccountCredited();
        c.setAccount(AsData(Key32('a')));
        c.setAmountMicros(5'000'000);
      },
      [](auto b) {
        auto d = b.initDatasetRegistered();
        d.setDatasetId(AsData(Key32('d')));
        d.setName("fashion-mnist");
        d.setFormat("idx");
        d.setChunks(47);
        d.setLicense("MIT");
        d.setPricePer1kSamplesMicros(100);
      },
      [](auto b) {
        auto j = b.initJobSubmitted();
        j.setJobId("job-1");
        j.setSpecHash(AsData(Key32('s')));
        j.initDatasets(1).set(0, AsData(Key32('d')));
        j.setBudgetMicros(1'000'000);
      },
      [](auto b) {
        auto p = b.initJobPlaced();
        p.setJobId("job-1");
        p.initWorkers(1)[0].setWorker(AsData(Key32('w')));
      },
      [](auto b) {
        auto c = b.initCheckpointCommitted();
        c.setJobId("job-1");
        c.setBlobHash(AsData(Key32('h')));
        c.setFingerprint(AsData(Key32('f')));
      },
      [](auto b) {
        auto m = b.initModelRegistered();
        m.setName("classifier");
        m.setModelHash(AsData(Key32('m')));
        m.setLicense("Apache-2.0");
        auto s = m.initShares(2);
        s[0].setAccount(AsData(Key32('x')));
        s[0].setBasisPoints(7000);
        s[1].setAccount(AsData(Key32('y')));
        s[1].setBasisPoints(3000);
      },
      [](auto b) {
        auto u = b.initInferenceUsage();
        u.setModel(AsData(Key32('m')));
        u.setConsumer(AsData(Key32('c')));
        u.setWorker(AsData(Key32('w')));
        u.setRequests(3);
      },
      [](auto b) {
        auto s = b.initSettlement();
        s.setAccount(AsData(Key32('a')));
        s.setAmountMicros(1);
      },
      [](auto b) {
        auto a = b.initRoundAudited();
        a.setJobId("job-1");
        a.setRound(3);
        auto rows = a.initRows(1);
        rows[0].setWorker(AsData(Key32('w')));
        rows[0].setFlags(8);
        rows[0].setNote("norm 482 against the others' median 4.84");
      },
      [](auto b) {
        auto v = b.initVerifierAssigned();
        v.setJobId("job-1");
        v.setWorker(AsData(Key32('w')));
        v.setVerifier(AsData(Key32('v')));
        v.setTask("verify-0123456789ab");
      },
      [](auto b) {
        auto v = b.initVerdict();
        v.setJobId("job-1");
        v.setWorker(AsData(Key32('w')));
        v.setResult("fail");
        v.setStep(10);
        v.setReason("the step chain parts from the replay at step 10 of 40");
      },
  };
  for (const auto& fill : fillers) {
    auto bytes = MakeEntry(k, kNow, fill);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    auto h = ValidateEntry(*bytes);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->actor, k.public_key().bytes());
    EXPECT_EQ(h->timestamp_unix_millis, kNow);
  }
  auto r = ValidateEntry(Receipt(k));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(EntryTypeName(r->type), "stepReceipt");
}

TEST(Entry, EncodingIsCanonicalAndDeterministic) {
  auto k = NewKey();
  EXPECT_EQ(Receipt(k), Receipt(k));  // Ed25519 is deterministic, and so is canonical form
  EXPECT_EQ(LeafHash(Receipt(k)), LeafHash(Receipt(k)));
}

TEST(Entry, AnyFlippedByteIsRejected) {
  auto k = NewKey();
  std::string good = Receipt(k);
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] ^= 0x01;
    EXPECT_FALSE(ValidateEntry(bad).ok()) << "byte " << i;
  }
}

TEST(Entry, RejectionsNameTheProblem) {
  auto k = NewKey();
  auto expect = [](const StatusOr<EntryHeader>& r, const std::string& want) {
    ASSERT_FALSE(r.ok()) << want;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << r.status();
  };
  expect(ValidateEntry(""), "not a positive multiple of 8");
  expect(ValidateEntry(std::string(kMaxEntryBytes + 8, '\0')), "exceeds the limit");
  std::string good = Receipt(k);
  expect(ValidateEntry(good + std::string(8, '\0')), "canonical");
  // A wrong-size field, caught before the signature.
  auto bad_field = MakeEntry(k, kNow, [](auto b) {
    auto c = b.initAccountCredited();
    c.setAccount(AsData(std::string(31, 'a')));
    c.setAmountMicros(1);
  });
  ASSERT_FALSE(bad_field.ok());
  EXPECT_NE(bad_field.status().message().find("accountCredited.account must be 32 bytes"), std::string::npos);
  auto bad_shares = MakeEntry(k, kNow, [](auto b) {
    auto m = b.initModelRegistered();
    m.setName("m");
    m.setModelHash(AsData(Key32('m')));
    m.setLicense("MIT");
    auto s = m.initShares(1);
    s[0].setAccount(AsData(Key32('x')));
    s[0].setBasisPoints(9999);
  });
  EXPECT_NE(bad_shares.status().message().find("sum to 9999"), std::string::npos);
  auto bad_author = MakeEntry(k, kNow, [](auto b) {
    auto m = b.initModelRegistered();
    m.setName("m");
    m.setModelHash(AsData(Key32('m')));
    m.setLicense("MIT");
    m.setAuthor(AsData(std::string(33, 'a')));
  });
  EXPECT_NE(bad_author.status().message().find("modelRegistered.author must be 32 bytes"), std::string::npos)
      << bad_author.status();
  auto long_name = MakeEntry(k, kNow, [](auto b) {
    auto d = b.initDatasetRegistered();
    d.setDatasetId(AsData(Key32('d')));
    d.setName(std::string(kMaxEntryText + 1, 'n'));
    d.setChunks(1);
    d.setLicense("MIT");
  });
  EXPECT_EQ(long_name.status().code(), StatusCode::kOutOfRange);
  // Verification entries (docs/verification.md).
  auto no_rows = MakeEntry(k, kNow, [](auto b) { b.initRoundAudited().setJobId("j"); });
  EXPECT_NE(no_rows.status().message().find("roundAudited.rows is empty"), std::string::npos) << no_rows.status();
  auto self = MakeEntry(k, kNow, [](auto b) {
    auto v = b.initVerifierAssigned();
    v.setJobId("j");
    v.setWorker(AsData(Key32('w')));
    v.setVerifier(AsData(Key32('w')));
    v.setTask("t");
  });
  EXPECT_NE(self.status().message().find("its own verifier"), std::string::npos) << self.status();
  auto maybe = MakeEntry(k, kNow, [](auto b) {
    auto v = b.initVerdict();
    v.setJobId("j");
    v.setWorker(AsData(Key32('w')));
    v.setResult("probably");
  });
  EXPECT_NE(maybe.status().message().find("verdict.result must be pass, fail or not comparable"), std::string::npos);
  auto backwards = MakeEntry(k, kNow, [](auto b) {
    auto v = b.initVerdict();
    v.setJobId("j");
    v.setWorker(AsData(Key32('w')));
    v.setResult("pass");
    v.setReplayStartUnixMillis(10);
    v.setReplayEndUnixMillis(5);
  });
  EXPECT_NE(backwards.status().message().find("ends before it starts"), std::string::npos);
  auto short_hash = MakeEntry(k, kNow, [](auto b) {
    auto r = b.initStepReceipt();
    r.setJobId("j");
    r.setFingerprintBefore(AsData(Key32('a')));
    r.setFingerprintAfter(AsData(Key32('b')));
    r.setUpdateHash(AsData(std::string(31, 'u')));
  });
  EXPECT_NE(short_hash.status().message().find("stepReceipt.updateHash must be 32 bytes"), std::string::npos);
  auto bad_rank = MakeEntry(k, kNow, [](auto b) {
    auto r = b.initStepReceipt();
    r.setJobId("j");
    r.setFingerprintBefore(AsData(Key32('a')));
    r.setFingerprintAfter(AsData(Key32('b')));
    r.initMembers(2);
    r.setRank(2);
  });
  EXPECT_NE(bad_rank.status().message().find("rank is not below"), std::string::npos);
}

TEST(Entry, SignatureByAnotherKeyOrOverAnotherEntryFails) {
  auto k = NewKey();
  std::string a = Receipt(k, Key32('d'));
  std::string b = Receipt(k, Key32('e'));
  // Graft b's signature onto a: same layout, so only the signature check fails.
  ASSERT_EQ(a.size(), b.size());
  auto ra = EntryReader::Open(a).value();
  auto rb = EntryReader::Open(b).value();
  capnp::MallocMessageBuilder m;
  m.setRoot(ra.root());
  m.getRoot<schema::LedgerEntry>().setSignature(rb.root().getSignature());
  auto words = capnp::canonicalize(m.getRoot<schema::LedgerEntry>().asReader());
  std::string grafted(reinterpret_cast<const char*>(words.begin()), words.size() * 8);
  auto r = ValidateEntry(grafted);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("stepReceipt entry"), std::string::npos);
}

TEST(Entry, RandomBytesNeverCrash) {
  std::mt19937_64 rng(99);
  std::string good = Receipt(NewKey());
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = good;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (i % 3 == 0) bytes.resize((rng() % (bytes.size() / 8)) * 8);
    if (bytes == good) continue;  // the mutations happened to cancel out
    EXPECT_FALSE(ValidateEntry(bytes).ok());
  }
}

}  // namespace
}  // namespace cairn::ledger
