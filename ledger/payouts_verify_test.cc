// The payout engine's verification rules (docs/verification.md): held pay,
// challenges drawn from the log, verdicts, forfeiture, verifiers' pay and
// reputations.
#include <gtest/gtest.h>

#include <random>

#include "ledger/payouts.h"
#include "ledger/payouts_test_entries.h"

namespace cairn::ledger {
namespace {

using namespace ::cairn::ledger::testing;  // NOLINT

class Verification : public ::testing::Test {
 protected:
  World w;  // 0 submitter, 1 data owner, 2..4 workers, 5 verifier, 6 stranger
  PayoutEngine e{w.OpKey()};
  uint64_t next_ = 0;
  std::vector<std::string> all_;  // every entry applied, in order
  const std::vector<std::string> jobs_{"j"};

  Status Apply(const std::string& entry) {
    Status s = e.Apply(next_, entry);
    if (s.ok()) {
      ++next_;
      all_.push_back(entry);
    }
    return s;
  }
  void Ok(const std::string& entry) {
    Status s = Apply(entry);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(e.CheckInvariants().ok()) << e.CheckInvariants();
  }
  void Refused(const std::string& entry, StatusCode code) {
    const Snapshot before = Snap(e, jobs_);
    const auto challenges = e.challenges().size();
    Status s = Apply(entry);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_TRUE(Snap(e, jobs_) == before) << "a refused entry changed the engine's state: " << s;
    EXPECT_EQ(e.challenges().size(), challenges);
  }
  // Refused, whatever the code, and nothing changed.
  void RefusedAny(const std::string& entry) {
    const Snapshot before = Snap(e, jobs_);
    const auto challenges = e.challenges().size();
    Status s = Apply(entry);
    EXPECT_FALSE(s.ok());
    EXPECT_TRUE(Snap(e, jobs_) == before) << "a refused entry changed the engine's state: " << s;
    EXPECT_EQ(e.challenges().size(), challenges);
  }
  JobFunds F() const { return e.Funds("j").value(); }
  // Job "j" with replays on: workers 2..4 at 3.6 credits an hour.
  void Start(VerifyPolicy policy, uint64_t budget = 5'000'000) {
    Ok(Credit(w, 0, 10'000'000));
    Ok(Dataset(w, 1, 'D', 1'000));
    JobTerms t("D");
    t.verify = policy;
    Ok(Submit(w, 0, "j", budget, t));
    Ok(Place(w, "j", 0, {{2, 3'600'000}, {3, 3'600'000}, {4, 3'600'000}}, kT0));
  }
  // Round `round`: each worker's receipt (10 s of work, 1,000 samples) and
  // acceptance, then the audit with `flags` per worker.
  int64_t at_ = kT0;
  void Round(uint64_t round, std::map<int, uint32_t> flags = {}, std::vector<int> workers = {2, 3, 4}) {
    at_ += 10 * kSecond;
    std::vector<std::pair<int, uint32_t>> rows;
    for (int wk : workers) {
      Ok(Receipt(w, wk, "j", 0, round, at_ - 10 * kSecond, at_, {{'D', 1000}}));
      Ok(Accept(w, "j", 0, round, wk, at_));
      rows.push_back({wk, flags[wk]});
    }
    Ok(Audit(w, "j", 0, round, rows, at_));
  }
  // The operator answers every open challenge of `round` "not comparable".
  void AnswerAll(uint64_t round) {
    std::vector<ChallengeKey> open;
    for (const auto& [key, c] : e.challenges()) {
      if (key.round == round && c.result.empty()) open.push_back(key);
    }
    for (const auto& key : open) {
      for (int wk = 0; wk < 8; ++wk) {
        if (w.Key(wk) == key.worker) Ok(VerdictOf(w, "j", 0, round, wk, "not comparable", -1, at_, at_));
      }
    }
  }
  bool Challenged(uint64_t round, int worker) const {
    return e.challenges().count(ChallengeKey{"j", 0, round, w.Key(worker)}) > 0;
  }
};

TEST_F(Verification, PayIsHeldForTheWindowThenReleased) {
  Start({/*replay_ppm=*/1, /*probation=*/0, /*hold=*/2});
  Round(1);
  // 10 s at 1,000 a second, and 1,000 samples at 1 per sample: held, not paid.
  EXPECT_EQ(e.Available(w.Key(2)), 0);
  EXPECT_EQ(e.HeldFor(w.Key(2)), 10'000u);
  EXPECT_EQ(e.HeldFor(w.Key(1)), 3'000u);
  EXPECT_EQ(F().held, 33'000u);
  EXPECT_EQ(F().compute, 30'000u) << "held pay is spent from the escrow already";
  // New workers have almost no reputation (one round: p = 1 - 1/11): most
  // rounds are replayed; answer whatever was drawn.
  AnswerAll(1);
  EXPECT_EQ(e.Available(w.Key(2)), 0) << "answered, but still inside W = 2";
  Round(2);
  AnswerAll(2);
  EXPECT_EQ(e.Available(w.Key(2)), 0) << "one audited round later: still inside W = 2";
  Round(3);
  AnswerAll(3);
  EXPECT_EQ(e.Available(w.Key(2)), 10'000) << "round 1's pay is released once two more rounds were audited";
  EXPECT_EQ(e.HeldFor(w.Key(2)), 20'000u);
}

TEST_F(Verification, ProbationReplaysEveryRoundOfNewWorkers) {
  Start({/*replay_ppm=*/1, /*probation=*/2, /*hold=*/1});
  Round(1);
  Round(2);
  Round(3);
  for (int wk : {2, 3, 4}) {
    EXPECT_TRUE(Challenged(1, wk));
    EXPECT_TRUE(Challenged(2, wk));
  }
  // After probation p is 1 - reputation; with 2 rounds and no passes that is
  // still high, so round 3 is mostly replayed too: only check the record.
  EXPECT_EQ(e.RecordOf(w.Key(2)).rounds, 3u);
  EXPECT_TRUE(e.challenges().at(ChallengeKey{"j", 0, 1, w.Key(2)}).probation);
}

TEST_F(Verification, AFlagForcesAReplay) {
  Start({/*replay_ppm=*/1, /*probation=*/0, /*hold=*/1});
  // Workers with a long clean record are replayed with p = max(1e-6, 1 - rep) < 10%...
  Round(1, {{3, kFlagNorm}});
  EXPECT_TRUE(Challenged(1, 3));
  EXPECT_EQ(e.challenges().at(ChallengeKey{"j", 0, 1, w.Key(3)}).flags, static_cast<uint32_t>(kFlagNorm));
  EXPECT_EQ(e.RecordOf(w.Key(3)).flagged, 1u);
}

TEST_F(Verification, APassingVerdictPaysTheVerifierAndReleasesTheRound) {
  Start({/*replay_ppm=*/1, /*probation=*/1, /*hold=*/0});
  Round(1);
  ASSERT_TRUE(Challenged(1, 2));
  EXPECT_EQ(e.HeldFor(w.Key(2)), 10'000u) << "a replayed round waits for its verdict";
  Ok(AssignVerifier(w, "j", 0, 1, 2, 5, 7'200'000, at_ + kSecond));  // 2,000 a second
  // A stranger's verdict, or the operator's "pass", is refused.
  Refused(VerdictOf(w, "j", 0, 1, 2, "pass", 6, at_ + kSecond, at_ + 3 * kSecond), StatusCode::kPermissionDenied);
  Refused(VerdictOf(w, "j", 0, 1, 2, "pass", -1, at_ + kSecond, at_ + 3 * kSecond), StatusCode::kPermissionDenied);
  // Signed 4 s of replay, but only 3 s passed since the assignment: 3 s paid.
  Ok(VerdictOf(w, "j", 0, 1, 2, "pass", 5, at_, at_ + 4 * kSecond));
  EXPECT_EQ(e.Available(w.Key(5)), 6'000);
  EXPECT_EQ(F().verify, 6'000u);
  EXPECT_EQ(e.Available(w.Key(2)), 10'000) << "hold 0: released with the verdict";
  EXPECT_EQ(e.RecordOf(w.Key(2)).passes, 1u);
  Refused(VerdictOf(w, "j", 0, 1, 2, "pass", 5, at_, at_ + 5 * kSecond), StatusCode::kAlreadyExists);
}

TEST_F(Verification, AFailingVerdictForfeitsEverythingHeldRemovesTheWorkerAndRefundsAtClose) {
  Start({/*replay_ppm=*/1, /*probation=*/3, /*hold=*/10});
  Round(1);
  Round(2);
  const uint32_t rep_before = ReputationPpm(e.RecordOf(w.Key(4)));
  Ok(AssignVerifier(w, "j", 0, 2, 4, 5, 3'600'000, at_));
  Ok(VerdictOf(w, "j", 0, 2, 4, "fail", 5, at_, at_ + kSecond));
  EXPECT_EQ(e.HeldFor(w.Key(4)), 0u);
  EXPECT_EQ(F().forfeited, 20'000u + 2 * 1'000u) << "two rounds of compute and the data they claimed";
  EXPECT_TRUE(e.Removed("j", w.Key(4)));
  EXPECT_LT(ReputationPpm(e.RecordOf(w.Key(4))), rep_before);
  EXPECT_EQ(e.RecordOf(w.Key(4)).fails, 1u);
  // Its later receipts, and a placement naming it, are refused.
  Refused(Receipt(w, 4, "j", 0, 3, at_, at_ + kSecond, {}), StatusCode::kPermissionDenied);
  Refused(Place(w, "j", 1, {{4, 1}}, at_ + kSecond), StatusCode::kPermissionDenied);
  // The honest workers' pay is released in full at the close; the forfeit is refunded.
  Figures f = FiguresOf(F());
  Ok(Close(w, "j", "succeeded", f, at_ + 2 * kSecond));
  EXPECT_EQ(e.Available(w.Key(2)), 20'000);
  EXPECT_EQ(e.Available(w.Key(3)), 20'000);
  EXPECT_EQ(e.Available(w.Key(4)), 0);
  EXPECT_EQ(e.Available(w.Key(0)), static_cast<int64_t>(10'000'000 - F().paid()));
  EXPECT_EQ(e.total_held(), 0u);
}

TEST_F(Verification, CloseMustStateTheVerifierPayAndTheForfeit) {
  Start({/*replay_ppm=*/1, /*probation=*/1, /*hold=*/1});
  Round(1);
  Ok(AssignVerifier(w, "j", 0, 1, 2, 5, 3'600'000, at_));
  Ok(VerdictOf(w, "j", 0, 1, 2, "fail", 5, at_, at_ + kSecond));
  Figures f = FiguresOf(F());
  Figures wrong = f;
  wrong.forfeit = 0;
  Refused(Close(w, "j", "succeeded", wrong, at_ + kSecond), StatusCode::kFailedPrecondition);
  wrong = f;
  wrong.verify = 0;
  Refused(Close(w, "j", "succeeded", wrong, at_ + kSecond), StatusCode::kFailedPrecondition);
  Ok(Close(w, "j", "succeeded", f, at_ + kSecond));
}

TEST_F(Verification, AuditsAreTheOperatorsAndCoverOnlyAcceptedUnauditedReceipts) {
  Start({/*replay_ppm=*/1, /*probation=*/0, /*hold=*/1});
  Round(1);
  Refused(Audit(w, "j", 0, 1, {{2, 0}}, at_), StatusCode::kAlreadyExists);
  Refused(Audit(w, "j", 0, 2, {{2, 0}}, at_), StatusCode::kFailedPrecondition);
  Ok(Receipt(w, 2, "j", 0, 2, at_, at_ + kSecond, {}));
  Ok(Accept(w, "j", 0, 2, 2, at_ + kSecond));
  Refused(Audit(w, "j", 0, 2, {{2, 0}}, at_, /*signer=*/2), StatusCode::kPermissionDenied);
  Refused(Audit(w, "j", 0, 2, {{2, 0}, {2, 0}}, at_), StatusCode::kInvalidArgument);
  Ok(Audit(w, "j", 0, 2, {{2, 0}}, at_));
}

TEST_F(Verification, TheOperatorMaySayNotComparableButNeverConvicts) {
  Start({/*replay_ppm=*/1, /*probation=*/1, /*hold=*/0});
  Round(1);
  Refused(VerdictOf(w, "j", 0, 1, 3, "fail", -1, at_, at_), StatusCode::kPermissionDenied);
  Ok(VerdictOf(w, "j", 0, 1, 3, "not comparable", -1, at_, at_));
  EXPECT_EQ(e.RecordOf(w.Key(3)).not_comparable, 1u);
  EXPECT_EQ(e.Available(w.Key(3)), 10'000);
}

TEST_F(Verification, ChallengesAreAPureFunctionOfTheLog) {
  Start({/*replay_ppm=*/300'000, /*probation=*/0, /*hold=*/3});
  for (uint64_t r = 1; r <= 20; ++r) Round(r);
  PayoutEngine again{w.OpKey()};
  for (size_t i = 0; i < all_.size(); ++i) ASSERT_TRUE(again.Apply(i, all_[i]).ok());
  ASSERT_EQ(again.challenges().size(), e.challenges().size());
  size_t n = 0;
  for (const auto& [key, c] : e.challenges()) {
    EXPECT_EQ(again.challenges().count(key), 1u);
    ++n;
  }
  // About 30% of 60 worker-rounds at first (reputations start at 0, so more).
  EXPECT_GT(n, 10u);
  EXPECT_LT(n, 60u);
}

// Random histories of verified jobs: rounds, audits, assignments and every
// kind of verdict (and refused ones), closes. After every entry the
// invariants hold, a refused entry changes nothing, and a replay of the log
// ends with the same balances, held pay and challenges.
TEST_F(Verification, RandomHistoriesKeepEveryInvariant) {
  w.sign = false;  // the engine checks no signature (see World): a thousand times faster
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    PayoutEngine fresh{w.OpKey()};
    e = fresh;
    next_ = 0;
    all_.clear();
    at_ = kT0;
    std::mt19937 rng(seed);
    auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
    Start({static_cast<uint32_t>(100'000 * (1 + pick(5))), static_cast<uint32_t>(pick(3)), static_cast<uint32_t>(pick(4))});
    bool closed = false;
    for (uint64_t r = 1; r <= 25 && !closed; ++r) {
      std::vector<int> workers;
      for (int wk : {2, 3, 4}) {
        if (!e.Removed("j", w.Key(wk)) && pick(5) != 0) workers.push_back(wk);
      }
      if (workers.empty()) continue;
      at_ += 10 * kSecond;
      std::vector<std::pair<int, uint32_t>> rows;
      for (int wk : workers) {
        Ok(Receipt(w, wk, "j", 0, r, at_ - 10 * kSecond, at_, {{'D', 100}}));
        Ok(Accept(w, "j", 0, r, wk, at_));
        rows.push_back({wk, pick(6) == 0 ? static_cast<uint32_t>(kFlagNorm) : 0u});
      }
      Ok(Audit(w, "j", 0, r, rows, at_));
      RefusedAny(Audit(w, "j", 0, r, rows, at_));  // audited already, or released already
      // Answer some open challenges, each in one of the ways the log allows.
      for (const auto& [key, c] : e.OpenChallenges()) {
        int wk = 2;
        while (w.Key(wk) != key.worker) ++wk;
        switch (pick(5)) {
          case 0:
            break;  // stays open
          case 1:
            Ok(VerdictOf(w, "j", 0, key.round, wk, "not comparable", -1, at_, at_));
            break;
          default: {
            Ok(AssignVerifier(w, "j", 0, key.round, wk, 5, 3'600'000, at_));
            Refused(VerdictOf(w, "j", 0, key.round, wk, "pass", 6, at_, at_ + kSecond), StatusCode::kPermissionDenied);
            const char* result = pick(4) == 0 ? "fail" : "pass";
            Ok(VerdictOf(w, "j", 0, key.round, wk, result, 5, at_, at_ + kSecond));
            Refused(VerdictOf(w, "j", 0, key.round, wk, "pass", 5, at_, at_ + kSecond), StatusCode::kAlreadyExists);
          }
        }
      }
      if (pick(12) == 0) {
        Ok(Close(w, "j", "succeeded", FiguresOf(F()), at_));
        closed = true;
      }
    }
    if (!closed) Ok(Close(w, "j", "succeeded", FiguresOf(F()), at_ + kSecond));
    EXPECT_EQ(e.total_held(), 0u) << "seed " << seed << ": nothing stays held after the close";
    PayoutEngine again{w.OpKey()};
    for (size_t i = 0; i < all_.size(); ++i) ASSERT_TRUE(again.Apply(i, all_[i]).ok()) << "seed " << seed << " entry " << i;
    EXPECT_TRUE(Snap(again, jobs_) == Snap(e, jobs_)) << "seed " << seed;
    EXPECT_EQ(again.challenges().size(), e.challenges().size());
    for (int wk : {2, 3, 4}) EXPECT_EQ(again.RecordOf(w.Key(wk)).fails, e.RecordOf(w.Key(wk)).fails);
  }
}

TEST(VerificationRules, ReputationAndProbability) {
  WorkerRecord fresh;
  EXPECT_EQ(ReputationPpm(fresh), 0u);
  EXPECT_EQ(ReplayProbabilityPpm(100'000, fresh), kMillion);
  WorkerRecord seasoned{/*rounds=*/200, /*passes=*/10};
  EXPECT_GT(ReputationPpm(seasoned), 950'000u);
  EXPECT_EQ(ReplayProbabilityPpm(100'000, seasoned), 100'000u) << "p never goes below p_min";
  WorkerRecord caught = seasoned;
  caught.fails = 1;
  EXPECT_LT(ReputationPpm(caught), ReputationPpm(seasoned));
  EXPECT_GT(ReplayProbabilityPpm(100'000, caught), 100'000u);
  EXPECT_TRUE(DrawHits(0, 1));
  EXPECT_FALSE(DrawHits(UINT64_MAX, 999'999));
  EXPECT_TRUE(DrawHits(UINT64_MAX, kMillion));
  EXPECT_FALSE(DrawHits(0, 0));
}

TEST(VerificationRules, CompactRangeGivesTheTreeHead) {
  CompactRange r;
  std::vector<Hash> leaves;
  EXPECT_EQ(r.Root(), EmptyRoot());
  for (int i = 0; i < 70; ++i) {
    leaves.push_back(LeafHash("entry " + std::to_string(i)));
    r.Append(leaves.back());
    ASSERT_EQ(r.Root(), RootOfLeaves(leaves)) << "size " << leaves.size();
  }
}

}  // namespace
}  // namespace cairn::ledger
