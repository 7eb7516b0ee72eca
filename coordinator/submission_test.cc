#include "coordinator/submission.h"

#include <gtest/gtest.h>

#include "runtime/crypto/sha256.h"
#include "runtime/wire/zap.h"

namespace cairn::coordinator {
namespace {

class SubmissionTest : public ::testing::Test {
 protected:
  std::string CurveOf(const Ed25519PrivateKey& k) { return wire::CurveKeysOf(k).value().public_key; }
  SubmissionFacts Facts() {
    return SubmissionFacts{"train-1-abc123", "name: train-1\nkind: train\n", {std::string(32, 'd')}, 5'000'000, 2'000'000,
                           std::string(32, 'p'), 100'000, 3, 10};
  }
  Ed25519PrivateKey me_ = Ed25519PrivateKey::Generate().value();
  Ed25519PrivateKey other_ = Ed25519PrivateKey::Generate().value();
};

TEST_F(SubmissionTest, TheSubmittersOwnEntryOverTheExactSpecPasses) {
  auto entry = SignSubmission(me_, 1000, Facts()).value();
  EXPECT_EQ(CheckSubmission(entry, Facts(), CurveOf(me_)).value(), me_.public_key().bytes());
  EXPECT_EQ(SubmissionJobId(entry, "train-1").value(), "train-1-abc123");
  EXPECT_EQ(NewJobId("x").size(), 8u);
  EXPECT_NE(NewJobId("x"), NewJobId("x"));
}

TEST_F(SubmissionTest, AnotherSignerIsRefused) {
  // Signed by someone else and sent over my connection, or mine sent over theirs.
  auto forged = SignSubmission(other_, 1000, Facts()).value();
  Status s = CheckSubmission(forged, Facts(), CurveOf(me_)).status();
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied) << s;
  EXPECT_NE(s.message().find("not by the identity this request came from"), std::string::npos) << s;
  EXPECT_EQ(CheckSubmission(SignSubmission(me_, 1000, Facts()).value(), Facts(), CurveOf(other_)).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(SubmissionTest, EveryFieldMustMatchWhatTheSpecResolvesTo) {
  auto entry = SignSubmission(me_, 1000, Facts()).value();
  auto expect = [&](SubmissionFacts f, const char* says) {
    Status s = CheckSubmission(entry, f, CurveOf(me_)).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << says;
    EXPECT_NE(s.message().find(says), std::string::npos) << s;
  };
  SubmissionFacts f = Facts();
  f.spec_text += "budget: 500\n";  // altered after signing
  expect(f, "spec hash");
  f = Facts();
  f.budget_micros = 1;
  expect(f, "budget");
  f = Facts();
  f.datasets = {std::string(32, 'e')};
  expect(f, "dataset list");
  f = Facts();
  f.max_price_per_hour_micros = 0;
  expect(f, "price cap");
  f = Facts();
  f.parent_model = "";
  expect(f, "parent model");
  f = Facts();
  f.job_id = "train-1-other";
  expect(f, "job id");
  // The verification the submitter pays for is part of its word too: an
  // operator cannot quietly lower the replay probability.
  f = Facts();
  f.replay_ppm = 10'000;
  expect(f, "verification terms");
  f = Facts();
  f.hold = 0;
  expect(f, "verification terms");
}

TEST_F(SubmissionTest, TheJobIdMustBeTheSpecsNameAndASuffix) {
  auto entry = SignSubmission(me_, 1000, Facts()).value();
  EXPECT_EQ(SubmissionJobId(entry, "other").status().code(), StatusCode::kInvalidArgument);
  SubmissionFacts f = Facts();
  f.job_id = "train-1-../../x";
  EXPECT_FALSE(SubmissionJobId(SignSubmission(me_, 1000, f).value(), "train-1").ok());
  // Not a submission at all.
  auto top = SignTopUp(me_, 1000, "train-1-abc123", 5).value();
  EXPECT_NE(SubmissionJobId(top, "train-1").status().message().find("must be a jobSubmitted"), std::string::npos);
  EXPECT_FALSE(SubmissionJobId("garbage", "train-1").ok());
  // Malformed bytes from the network: clear errors, never a crash.
  auto good = SignSubmission(me_, 1000, Facts()).value();
  for (size_t cut : {size_t{0}, size_t{1}, size_t{8}, good.size() / 2, good.size() - 1}) {
    EXPECT_FALSE(CheckSubmission(good.substr(0, cut), Facts(), CurveOf(me_)).ok()) << cut;
    EXPECT_FALSE(CheckTopUp(good.substr(0, cut), CurveOf(me_)).ok()) << cut;
  }
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x40;
  EXPECT_FALSE(CheckSubmission(flipped, Facts(), CurveOf(me_)).ok());
}

TEST_F(SubmissionTest, TopUpsAreTheSignersOwn) {
  auto top = SignTopUp(me_, 1000, "train-1-abc123", 7'000'000).value();
  auto t = CheckTopUp(top, CurveOf(me_));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->job_id, "train-1-abc123");
  EXPECT_EQ(t->amount_micros, 7'000'000u);
  EXPECT_EQ(t->submitter, me_.public_key().bytes());
  EXPECT_EQ(CheckTopUp(top, CurveOf(other_)).status().code(), StatusCode::kPermissionDenied);
  EXPECT_FALSE(CheckTopUp(SignSubmission(me_, 1, Facts()).value(), CurveOf(me_)).ok());
  EXPECT_FALSE(SignTopUp(me_, 1000, "j", 0).ok()) << "a zero top-up is not a valid entry";
}

}  // namespace
}  // namespace cairn::coordinator
