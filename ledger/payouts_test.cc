// The payout engine's rules, one by one (random histories are in
// ledger/payouts_property_test.cc).
#include "ledger/payouts.h"

#include <gtest/gtest.h>

#include "ledger/payouts_test_entries.h"

namespace cairn::ledger {
namespace {

using namespace ::cairn::ledger::testing;  // NOLINT

class Payouts : public ::testing::Test {
 protected:
  World w;  // 0 submitter, 1 data owner, 2 and 3 workers, 4 model author, 5 someone else
  PayoutEngine e{w.OpKey()};
  uint64_t next_ = 0;
  const std::vector<std::string> jobs_{"j", "k", "job-1"};

  Status Apply(const std::string& entry) { return e.Apply(next_++, entry); }
  void Ok(const std::string& entry) {
    Status s = Apply(entry);
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_TRUE(e.CheckInvariants().ok()) << e.CheckInvariants();
  }
  // Refused with `code`, and every balance, job and earning as before.
  void Refused(const std::string& entry, StatusCode code) {
    const Snapshot before = Snap(e, jobs_);
    Status s = Apply(entry);
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_TRUE(Snap(e, jobs_) == before) << "a refused entry changed the engine's state: " << s;
  }
  JobFunds F(const std::string& job) const { return e.Funds(job).value(); }
  // Submitter 0 with 10 credits; datasets D (2,000 per 1k samples) and E;
  // job "j" over D with `budget`; worker 2 placed on attempt 0 at 3.6
  // credits an hour (1,000 micro-credits a second) at kT0.
  void Basic(uint64_t budget = 1'000'000, const JobTerms& terms = {"D"}) {
    Ok(Credit(w, 0, 10'000'000));
    Ok(Dataset(w, 1, 'D', 2'000));
    Ok(Dataset(w, 1, 'E', 1'000));
    Ok(Submit(w, 0, "j", budget, terms));
    Ok(Place(w, "j", 0, {{2, 3'600'000}}, kT0));
  }
  // Worker 2's receipt for `round` of attempt 0 signed for `millis`, then its acceptance at `at`.
  void Round(uint64_t round, int64_t millis, int64_t at, uint64_t samples = 0) {
    Ok(Receipt(w, 2, "j", 0, round, at - millis, at, {{'D', samples}}));
    Ok(Accept(w, "j", 0, round, 2, at));
  }
};

TEST_F(Payouts, WorkedExample) {
  Ok(Credit(w, 0, 10'000'000));
  Ok(Dataset(w, 1, 'D', 2'000));                    // 2,000 micro-credits per 1,000 samples
  Ok(Submit(w, 0, "job-1", 1'000'000, {"D"}));      // 1 credit in escrow
  Ok(Place(w, "job-1", 0, {{2, 3'600'000}}, kT0));  // 3.6 credits/hour = 1,000 per second
  Ok(Receipt(w, 2, "job-1", 0, 1, kT0 + 10 * kSecond, kT0 + 70 * kSecond, {{'D', 50'000}}));
  EXPECT_EQ(e.Available(w.Key(2)), 0);  // a receipt only waits
  EXPECT_EQ(e.total_escrow(), 1'000'000u);
  Ok(Accept(w, "job-1", 0, 1, 2, kT0 + 90 * kSecond));  // signed 60 s, observed 90 s -> 60,000; 50k samples -> 100,000
  EXPECT_EQ(e.Available(w.Key(2)), 60'000);
  EXPECT_EQ(e.Available(w.Key(1)), 100'000);
  EXPECT_EQ(e.total_escrow(), 1'000'000u - 160'000u);
  EXPECT_EQ(e.Available(w.Key(0)), 9'000'000);

  Ok(Model(w, 3, 'M', "job-1"));
  Ok(Credit(w, 4, 1'000'000));
  Ok(Usage(w, 'M', 4, 2, 10'000, 1'000));  // 9,000 to the lineage: 30% data, 70% author
  EXPECT_EQ(e.Available(w.Key(4)), 990'000);
  EXPECT_EQ(e.Available(w.Key(2)), 61'000);
  EXPECT_EQ(e.Available(w.Key(1)), 100'000 + 2'700);
  EXPECT_EQ(e.Available(w.Key(3)), 6'300);

  Ok(Model(w, 5, 'F', "", 'M'));  // a fine-tune of M: 20% goes up to M's own split
  Ok(Usage(w, 'F', 4, 2, 10'000, 0));
  EXPECT_EQ(e.Available(w.Key(5)), 8'000);
  EXPECT_EQ(e.Available(w.Key(3)), 6'300 + 1'400);
  EXPECT_EQ(e.Available(w.Key(1)), 102'700 + 600);

  // Registered by worker 2 for submitter 0: the entry's author is paid, not its signer.
  Ok(Model(w, 2, 'G', "job-1", 0, 0));
  const int64_t submitter_before = e.Available(w.Key(0)), worker_before = e.Available(w.Key(2));
  Ok(Usage(w, 'G', 4, 5, 10'000, 0));  // 30% data, 70% author
  EXPECT_EQ(e.Available(w.Key(0)), submitter_before + 7'000);
  EXPECT_EQ(e.Available(w.Key(2)), worker_before);

  Ok(Close(w, "job-1", "succeeded", {1'000'000, 60'000, 100'000, 0, 840'000}, kT0 + 100 * kSecond));
  EXPECT_EQ(e.Available(w.Key(0)), submitter_before + 7'000 + 840'000);
  EXPECT_EQ(e.total_escrow(), 0u);
  Ok(Settle(w, 2, 61'000));
  EXPECT_EQ(e.Available(w.Key(2)), 0);
  EXPECT_EQ(e.earnings().back().reason, "refund");
}

TEST_F(Payouts, RuleBreakingEntriesAreRefusedAndChangeNothing) {
  Ok(Credit(w, 0, 100));
  Refused(Submit(w, 0, "j", 101), StatusCode::kFailedPrecondition);  // more than it has
  auto self_credit = Make(w, w.people[0], kT0, [&](Builder b) {      // only the operator credits
    auto c = b.initAccountCredited();
    c.setAccount(AsData(w.Key(0)));
    c.setAmountMicros(1'000'000);
  });
  Refused(self_credit, StatusCode::kPermissionDenied);
  Ok(Dataset(w, 1, 'D', 1));
  Refused(Submit(w, 0, "j", 100, {"DZ"}), StatusCode::kFailedPrecondition);  // Z is not registered
  Ok(Submit(w, 0, "j", 100, {"D"}));
  Refused(Submit(w, 0, "j", 0), StatusCode::kAlreadyExists);
  Refused(Receipt(w, 2, "j", 0, 1, kT0, kT0 + 1000, {{'D', 10}}), StatusCode::kPermissionDenied);  // never placed
  Refused(Settle(w, 0, 1), StatusCode::kFailedPrecondition);
  EXPECT_EQ(e.Apply(0, Credit(w, 0, 1)).code(), StatusCode::kInvalidArgument);  // out of order
  EXPECT_EQ(e.Available(w.Key(0)), 0);
  EXPECT_EQ(e.total_escrow(), 100u);
  EXPECT_TRUE(e.CheckInvariants().ok());
}

TEST_F(Payouts, AReceiptAloneMovesNothing) {
  Basic();
  const Snapshot before = Snap(e, jobs_);
  Ok(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 50'000}}));
  EXPECT_TRUE(Snap(e, jobs_) == before);
}

// Compute is paid for min(signed, observed); the observed time runs from
// the placement or the seat's previous acceptance, so a receipt signed over
// an inflated interval earns nothing past what the operator saw.
TEST_F(Payouts, ObservedShorterThanSignedPaysObserved) {
  Basic(5'000'000);
  Round(1, 60 * kMinute, kT0 + 10 * kMinute);  // signed 1 h, observed 10 min since the placement
  EXPECT_EQ(e.Available(w.Key(2)), 600'000);
  Round(2, 60 * kMinute, kT0 + 15 * kMinute);  // observed 5 min since the last acceptance
  EXPECT_EQ(e.Available(w.Key(2)), 900'000);
  // A receipt claiming three years earns the minute the operator observed.
  Ok(Receipt(w, 2, "j", 0, 3, kT0 - 1000LL * 24 * 60 * kMinute, kT0 + 1000LL * 24 * 60 * kMinute, {}));
  Ok(Accept(w, "j", 0, 3, 2, kT0 + 16 * kMinute));
  EXPECT_EQ(e.Available(w.Key(2)), 960'000);
  Round(4, 30 * kSecond, kT0 + 30 * kMinute);  // signed shorter than observed: signed
  EXPECT_EQ(e.Available(w.Key(2)), 990'000);
  // An acceptance stamped before the previous one observes nothing (data is
  // still paid), and does not move the seat's clock back.
  Ok(Receipt(w, 2, "j", 0, 5, kT0, kT0 + 10 * kMinute, {{'D', 1'000}}));
  Ok(Accept(w, "j", 0, 5, 2, kT0 + 20 * kMinute));
  EXPECT_EQ(e.Available(w.Key(2)), 990'000);
  EXPECT_EQ(e.Available(w.Key(1)), 2'000);
  Round(6, 10 * kMinute, kT0 + 31 * kMinute);
  EXPECT_EQ(e.Available(w.Key(2)), 1'050'000);
  // Nor does one signed over the whole int64 range (its duration is exact, not an overflow).
  Ok(Receipt(w, 2, "j", 0, 7, INT64_MIN, INT64_MAX, {}));
  Ok(Accept(w, "j", 0, 7, 2, kT0 + 32 * kMinute));
  EXPECT_EQ(F("j").compute, 1'110'000u);
}

// A seat placed again keeps its clock: an earlier-stamped re-placement does
// not let the next acceptance pay time already paid; the new price applies.
// A worker that signs receipts for an attempt the job has left is paid at
// most up to the next attempt's placement (3.6 credits/hour = 1,000 a second).
TEST_F(Payouts, ALaterAttemptEndsTheTimeOfEarlierSeats) {
  Basic(5'000'000);
  Round(1, 60 * kMinute, kT0 + 10 * kMinute);
  EXPECT_EQ(e.Available(w.Key(2)), 600'000);
  Ok(Place(w, "j", 1, {{3, 3'600'000}}, kT0 + 12 * kMinute));  // requeued: attempt 1 on worker 3
  Ok(Receipt(w, 2, "j", 0, 2, kT0, kT0 + 60 * kMinute, {}));  // worker 2 claims an hour of attempt 0
  Ok(Accept(w, "j", 0, 2, 2, kT0 + 70 * kMinute));
  EXPECT_EQ(e.Available(w.Key(2)), 720'000) << "paid the 2 minutes to attempt 1's placement, not 60";
  Ok(Receipt(w, 2, "j", 0, 3, kT0, kT0 + 60 * kMinute, {}));
  Ok(Accept(w, "j", 0, 3, 2, kT0 + 80 * kMinute));
  EXPECT_EQ(e.Available(w.Key(2)), 720'000) << "and nothing more";
  Ok(Receipt(w, 3, "j", 1, 1, kT0 + 12 * kMinute, kT0 + 14 * kMinute, {}));
  Ok(Accept(w, "j", 1, 1, 3, kT0 + 15 * kMinute));
  EXPECT_EQ(e.Available(w.Key(3)), 120'000) << "the new attempt's seat is paid as usual";
}

TEST_F(Payouts, PlacingASeatAgainNeitherRestartsItsClockNorKeepsTheOldPrice) {
  Basic(5'000'000);
  Round(1, 10 * kMinute, kT0 + 10 * kMinute);
  EXPECT_EQ(e.Available(w.Key(2)), 600'000);
  Ok(Place(w, "j", 0, {{2, 3'600'000}}, kT0));
  Round(2, 60 * kMinute, kT0 + 12 * kMinute);  // 2 min, not 12
  EXPECT_EQ(e.Available(w.Key(2)), 720'000);
  Ok(Place(w, "j", 0, {{2, 7'200'000}}, kT0 + 12 * kMinute));
  Round(3, 10 * kMinute, kT0 + 13 * kMinute);  // 1 min at 7.2 credits an hour
  EXPECT_EQ(e.Available(w.Key(2)), 840'000);
}

TEST_F(Payouts, AcceptanceNeedsAWaitingReceiptAndTheOperator) {
  Basic();
  Refused(Accept(w, "j", 0, 1, 2, kT0 + kMinute), StatusCode::kFailedPrecondition);  // no receipt
  Ok(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 10}}));
  Refused(Accept(w, "j", 0, 1, 3, kT0 + kMinute), StatusCode::kFailedPrecondition);  // another worker
  Refused(Accept(w, "j", 1, 1, 2, kT0 + kMinute), StatusCode::kFailedPrecondition);  // another attempt
  Refused(Accept(w, "j", 0, 2, 2, kT0 + kMinute), StatusCode::kFailedPrecondition);  // another round
  Refused(Accept(w, "nope", 0, 1, 2, kT0 + kMinute), StatusCode::kFailedPrecondition);
  Refused(Accept(w, "j", 0, 1, 2, kT0 + kMinute, 2), StatusCode::kPermissionDenied);  // the worker itself
  Ok(Accept(w, "j", 0, 1, 2, kT0 + kMinute));
  Refused(Accept(w, "j", 0, 1, 2, kT0 + 2 * kMinute), StatusCode::kFailedPrecondition);  // paid once
  Refused(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 10}}), StatusCode::kAlreadyExists);
  Ok(Receipt(w, 2, "j", 0, 2, kT0, kT0 + kMinute, {}));
  Refused(Receipt(w, 2, "j", 0, 2, kT0, kT0 + 2 * kMinute, {}), StatusCode::kAlreadyExists);  // pending
  Refused(Receipt(w, 3, "j", 0, 3, kT0, kT0 + kMinute, {}), StatusCode::kPermissionDenied);   // not placed
  Refused(Receipt(w, 2, "j", 1, 3, kT0, kT0 + kMinute, {}), StatusCode::kPermissionDenied);   // not on attempt 1
  Refused(Receipt(w, 2, "nope", 0, 3, kT0, kT0 + kMinute, {}), StatusCode::kFailedPrecondition);
}

TEST_F(Payouts, ReceiptForAnUndeclaredDatasetIsRefused) {
  Basic();  // E is registered, but job j declared only D
  Refused(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'E', 10}}), StatusCode::kPermissionDenied);
  Refused(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 10}, {'E', 10}}), StatusCode::kPermissionDenied);
  Ok(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 10}}));
}

TEST_F(Payouts, PlacementAboveTheCapIsRefused) {
  Ok(Credit(w, 0, 10'000'000));
  Ok(Dataset(w, 1, 'D', 2'000));
  Ok(Submit(w, 0, "j", 1'000'000, {"D", 1'000'000}));
  Refused(Place(w, "j", 1, {{3, 1'000'001}}, kT0), StatusCode::kFailedPrecondition);
  Refused(Place(w, "j", 1, {{3, 1'000'000}, {5, 2'000'000}}, kT0), StatusCode::kFailedPrecondition);
  // The whole entry was refused: worker 3 holds no seat on attempt 1.
  Refused(Receipt(w, 3, "j", 1, 1, kT0, kT0 + kMinute, {}), StatusCode::kPermissionDenied);
  Ok(Place(w, "j", 1, {{3, 1'000'000}}, kT0));  // at the cap
  Ok(Receipt(w, 3, "j", 1, 1, kT0, kT0 + kMinute, {}));
  Ok(Submit(w, 0, "k", 10, {"D"}));  // no cap
  Ok(Place(w, "k", 0, {{3, 1'000'000'000'000}}, kT0));
  Refused(Place(w, "nope", 0, {{3, 1}}, kT0), StatusCode::kFailedPrecondition);
}

TEST_F(Payouts, FinetuneFeeIsPaidOnceToTheParentsAuthor) {
  Ok(Credit(w, 0, 10'000'000));
  Ok(Dataset(w, 1, 'D', 2'000));
  Ok(Model(w, 3, 'P', "", 0, 4, 50'000));  // signed by 3 for author 4
  EXPECT_EQ(e.FinetuneFee(Id32('P')), 50'000u);
  Refused(Submit(w, 0, "j", 1'000'000, {"D", 0, 'Q'}), StatusCode::kFailedPrecondition);  // Q unregistered
  Refused(Submit(w, 0, "j", 49'999, {"D", 0, 'P'}), StatusCode::kFailedPrecondition);     // fee not covered
  Ok(Submit(w, 0, "j", 1'000'000, {"D", 0, 'P'}));
  Ok(Place(w, "j", 0, {{2, 3'600'000}}, kT0));
  Ok(Receipt(w, 2, "j", 0, 1, kT0, kT0 + 10 * kSecond, {}));
  EXPECT_EQ(e.Available(w.Key(4)), 0);  // nothing before an acceptance
  Ok(Accept(w, "j", 0, 1, 2, kT0 + 10 * kSecond));
  EXPECT_EQ(e.Available(w.Key(4)), 50'000);
  EXPECT_EQ(e.Available(w.Key(3)), 0);
  EXPECT_EQ(e.Available(w.Key(2)), 10'000);
  Round(2, 10 * kSecond, kT0 + 20 * kSecond);
  EXPECT_EQ(e.Available(w.Key(4)), 50'000);
  EXPECT_EQ(F("j").fee, 50'000u);
  EXPECT_EQ(F("j").paid(), 70'000u);
  int fees = 0;
  for (const Earning& x : e.earnings()) fees += x.reason == "finetune fee" && x.account == w.Key(4) && x.job == "j";
  EXPECT_EQ(fees, 1);
  // Each fine-tuning job pays its own fee; a job that never has a receipt
  // accepted pays none, and its close refunds the fee with the rest.
  Ok(Submit(w, 0, "k", 50'000, {"", 0, 'P'}));
  Ok(Close(w, "k", "cancelled", {50'000, 0, 0, 0, 50'000}, kT0 + kMinute));
  EXPECT_EQ(e.Available(w.Key(4)), 50'000);
}

TEST_F(Payouts, TopUpBySomeoneElseIsRefused) {
  Basic();
  Ok(Credit(w, 5, 1'000'000));
  Refused(TopUp(w, 5, "j", 100), StatusCode::kPermissionDenied);
  Refused(TopUp(w, 0, "nope", 100), StatusCode::kFailedPrecondition);
  Refused(TopUp(w, 0, "j", 9'000'001), StatusCode::kFailedPrecondition);  // more than it has
  Ok(TopUp(w, 0, "j", 1'000));
  EXPECT_EQ(F("j").budget, 1'001'000u);
  EXPECT_EQ(e.Available(w.Key(0)), 8'999'000);
}

TEST_F(Payouts, TopUpOfAJobClosedForAnotherReasonIsRefused) {
  Ok(Credit(w, 0, 10'000'000));
  const char* outcomes[] = {"succeeded", "failed", "cancelled"};
  const std::string ids[] = {"j", "k", "job-1"};
  for (int i = 0; i < 3; ++i) {
    Ok(Submit(w, 0, ids[i], 1'000));
    Ok(Close(w, ids[i], outcomes[i], {1'000, 0, 0, 0, 1'000}, kT0));
    Refused(TopUp(w, 0, ids[i], 500), StatusCode::kFailedPrecondition);
    EXPECT_TRUE(F(ids[i]).closed);
  }
}

TEST_F(Payouts, TopUpReopensABudgetExhaustedJob) {
  Basic(100'000);
  Round(1, kMinute, kT0 + kMinute, 10'000);      // 60,000 compute, 20,000 data
  Round(2, kMinute, kT0 + 2 * kMinute, 10'000);  // escrow 20,000 left: compute takes it, data gets 0
  EXPECT_EQ(F("j").compute, 80'000u);
  EXPECT_EQ(F("j").data, 20'000u);
  EXPECT_EQ(F("j").escrow(), 0u);
  EXPECT_EQ(e.Available(w.Key(1)), 20'000);
  Ok(Receipt(w, 2, "j", 0, 3, kT0 + 2 * kMinute, kT0 + 3 * kMinute, {}));
  Ok(Close(w, "j", "budget exhausted", {100'000, 80'000, 20'000, 0, 0}, kT0 + 3 * kMinute));
  Refused(Accept(w, "j", 0, 3, 2, kT0 + 4 * kMinute), StatusCode::kFailedPrecondition);
  Ok(TopUp(w, 0, "j", 500'000));
  EXPECT_FALSE(F("j").closed);
  EXPECT_EQ(F("j").escrow(), 500'000u);
  // The receipt waiting at the close was dropped; the job resumes on a new attempt.
  Refused(Accept(w, "j", 0, 3, 2, kT0 + 10 * kMinute), StatusCode::kFailedPrecondition);
  Ok(Place(w, "j", 1, {{3, 3'600'000}}, kT0 + 10 * kMinute));
  Ok(Receipt(w, 3, "j", 1, 3, kT0 + 10 * kMinute, kT0 + 11 * kMinute, {{'D', 1'000}}));
  Ok(Accept(w, "j", 1, 3, 3, kT0 + 11 * kMinute));
  EXPECT_EQ(e.Available(w.Key(3)), 60'000);
  const JobFunds f = F("j");
  EXPECT_EQ(f.paid(), 100'000u + 62'000u);
  Ok(Close(w, "j", "succeeded", FiguresOf(f), kT0 + 12 * kMinute));
  EXPECT_EQ(F("j").refunded, 600'000u - 162'000u);
  EXPECT_EQ(e.Available(w.Key(0)), 10'000'000 - 162'000);
}

TEST_F(Payouts, JobClosedWithWrongFiguresIsRefused) {
  Basic();
  Round(1, kMinute, kT0 + kMinute, 5'000);
  const Figures good = FiguresOf(F("j"));
  EXPECT_EQ(good.compute, 60'000u);
  EXPECT_EQ(good.data, 10'000u);
  for (uint64_t Figures::*field :
       {&Figures::budget, &Figures::compute, &Figures::data, &Figures::fee, &Figures::refund}) {
    for (int delta : {-1, 1}) {
      Figures bad = good;
      if (delta < 0 && bad.*field == 0) continue;
      bad.*field += static_cast<uint64_t>(static_cast<int64_t>(delta));
      Refused(Close(w, "j", "succeeded", bad, kT0 + 2 * kMinute), StatusCode::kFailedPrecondition);
    }
  }
  Refused(Close(w, "j", "succeeded", good, kT0 + 2 * kMinute, 0), StatusCode::kPermissionDenied);  // the submitter
  Refused(Close(w, "nope", "succeeded", good, kT0 + 2 * kMinute), StatusCode::kFailedPrecondition);
  Ok(Close(w, "j", "succeeded", good, kT0 + 2 * kMinute));
  Refused(Close(w, "j", "succeeded", FiguresOf(F("j")), kT0 + 3 * kMinute), StatusCode::kFailedPrecondition);
}

TEST_F(Payouts, RefundIsTheBudgetLessWhatWasPaid) {
  Ok(Credit(w, 0, 10'000'000));
  Ok(Dataset(w, 1, 'D', 2'000));
  Ok(Model(w, 4, 'P', "", 0, -1, 25'000));
  Ok(Submit(w, 0, "j", 1'000'000, {"D", 0, 'P'}));
  Ok(Place(w, "j", 0, {{2, 3'600'000}, {3, 1'800'000}}, kT0));
  Round(1, kMinute, kT0 + kMinute, 3'000);
  Ok(Receipt(w, 3, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 1'000}}));
  Ok(Accept(w, "j", 0, 1, 3, kT0 + 2 * kMinute));
  const JobFunds f = F("j");
  EXPECT_EQ(f.fee, 25'000u);
  EXPECT_EQ(f.compute, 60'000u + 30'000u);
  EXPECT_EQ(f.data, 6'000u + 2'000u);
  EXPECT_EQ(f.max_round, 60'000u + 6'000u + 30'000u + 2'000u);  // workers' and data pay; not the fee
  Ok(Close(w, "j", "cancelled", {1'000'000, 90'000, 8'000, 25'000, 877'000}, kT0 + 3 * kMinute));
  EXPECT_EQ(F("j").refunded, F("j").budget - F("j").paid());
  EXPECT_EQ(F("j").escrow(), 0u);
  EXPECT_EQ(F("j").outcome, "cancelled");
  EXPECT_EQ(e.Available(w.Key(0)), 9'000'000 + 877'000);
  EXPECT_EQ(EarningTuple(e.earnings().back()), EarningTuple({next_ - 1, w.Key(0), 877'000, "refund", "j"}));
}

TEST_F(Payouts, ReceiptsAndAcceptancesAfterTheCloseAreRefused) {
  Basic();
  Ok(Receipt(w, 2, "j", 0, 1, kT0, kT0 + kMinute, {{'D', 10}}));
  Ok(Close(w, "j", "failed", {1'000'000, 0, 0, 0, 1'000'000}, kT0 + kMinute));
  Refused(Accept(w, "j", 0, 1, 2, kT0 + 2 * kMinute), StatusCode::kFailedPrecondition);
  Refused(Receipt(w, 2, "j", 0, 2, kT0, kT0 + kMinute, {}), StatusCode::kFailedPrecondition);
  Refused(Place(w, "j", 1, {{3, 1}}, kT0 + 2 * kMinute), StatusCode::kFailedPrecondition);
  EXPECT_EQ(F("j").compute, 0u);
  EXPECT_EQ(e.Available(w.Key(0)), 10'000'000);
}

// Every payment is capped by what is left in escrow, and MulDiv floors.
TEST_F(Payouts, EscrowCapsEveryPaymentAndAmountsRoundDown) {
  Ok(Credit(w, 0, 10'000'000));
  Ok(Dataset(w, 1, 'D', 1));
  Ok(Submit(w, 0, "j", 1'000, {"D"}));
  Ok(Place(w, "j", 0, {{2, 1}}, kT0));    // 1 micro-credit an hour
  Round(1, kSecond, kT0 + kSecond, 999);  // floor(1000 * 1 / 3.6e6) = 0, floor(999 * 1 / 1000) = 0
  EXPECT_EQ(F("j").paid(), 0u);
  Ok(Place(w, "j", 1, {{3, 3'600'000'000}}, kT0));
  Ok(Receipt(w, 3, "j", 1, 1, kT0, kT0 + kMinute, {{'D', 5'000'000}}));
  Ok(Accept(w, "j", 1, 1, 3, kT0 + kMinute));
  EXPECT_EQ(e.Available(w.Key(3)), 1'000);
  EXPECT_EQ(F("j").data, 0u);
  EXPECT_EQ(F("j").escrow(), 0u);
}

}  // namespace
}  // namespace cairn::ledger
