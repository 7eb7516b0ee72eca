// The cheap checks (coordinator/round_audit.h), one rule at a time, on
// hand-made rounds of four workers.
#include "coordinator/round_audit.h"

#include <random>

#include <gtest/gtest.h>

#include "ledger/verification_rules.h"

namespace cairn::coordinator {
namespace {

// Four honest receipts of one round: a shared direction plus noise.
std::vector<AuditedReceipt> Round(uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  std::vector<float> truth(2000);
  for (auto& v : truth) v = g(rng);
  std::vector<AuditedReceipt> out;
  for (uint32_t r = 0; r < 4; ++r) {
    AuditedReceipt a;
    a.worker = std::string(32, static_cast<char>('a' + r));
    a.rank = r;
    a.members = {0, 1, 2, 3};
    a.uid = r;
    a.fp_before = "before";
    a.fp_after = "after";
    a.update_hash = std::string(32, static_cast<char>('0' + r));
    a.has_commitments = true;
    a.window_ms = 1000;
    a.start_ms = 2000;
    a.end_ms = 5000;
    a.accepted_ms = 5100;
    a.chunks = {r, r + 4, r + 8};
    std::vector<float> u(truth.size());
    for (size_t j = 0; j < u.size(); ++j) u[j] = truth[j] + 0.7f * g(rng);
    a.update = u;
    out.push_back(std::move(a));
  }
  return out;
}
AuditContext Diloco() {
  AuditContext c;
  c.diloco = true;
  c.shard_by_chunk = true;
  c.previous_consensus = "before";
  return c;
}
uint32_t FlagsOf(const std::vector<AuditVerdict>& v, size_t i) { return v.at(i).flags; }

TEST(RoundAudit, AnHonestRoundRaisesNoFlag) {
  for (uint32_t seed = 1; seed < 50; ++seed) {
    auto v = AuditRound(Diloco(), Round(seed));
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(FlagsOf(v, i), 0u) << "seed " << seed << ": " << v[i].note;
  }
}

TEST(RoundAudit, PoisonedUpdatesAreFlaggedByNormOrDirection) {
  std::mt19937 rng(9);
  std::normal_distribution<float> g(0, 1);
  for (const char* mode : {"scaled", "sign-flip", "random"}) {
    auto r = Round();
    auto& u = *r[2].update;
    double norm = 0;
    for (float x : u) norm += x * x;
    if (std::string(mode) == "scaled") {
      for (auto& x : u) x *= 100;
    }
    if (std::string(mode) == "sign-flip") {
      for (auto& x : u) x = -x;
    }
    if (std::string(mode) == "random") {
      double rn = 0;
      for (auto& x : u) {
        x = g(rng);
        rn += x * x;
      }
      for (auto& x : u) x = static_cast<float>(x * std::sqrt(norm / rn));
    }
    auto v = AuditRound(Diloco(), r);
    EXPECT_NE(FlagsOf(v, 2) & (ledger::kFlagNorm | ledger::kFlagDirection), 0u) << mode;
    for (size_t i : {0u, 1u, 3u}) EXPECT_EQ(FlagsOf(v, i), 0u) << mode << ": honest worker " << i << " " << v[i].note;
  }
}

TEST(RoundAudit, DuplicatesStateTimestampsAndAssignment) {
  auto r = Round();
  r[1].update_hash = r[0].update_hash;  // a copy
  r[3].fp_before = "elsewhere";
  auto v = AuditRound(Diloco(), r);
  EXPECT_NE(FlagsOf(v, 0) & ledger::kFlagDuplicate, 0u);
  EXPECT_NE(FlagsOf(v, 1) & ledger::kFlagDuplicate, 0u);
  EXPECT_NE(FlagsOf(v, 3) & ledger::kFlagState, 0u);

  AuditContext ctx = Diloco();
  ctx.earlier_updates[Round()[2].update_hash] = "round 1 by 6363";  // stale
  r = Round();
  r[0].start_ms = r[0].window_ms - 60'000;  // forged
  r[1].chunks = {2};                        // rank 1 of 4 drew chunk 2
  r[2].rank = 3;                            // not its place
  r[3].min_seconds = 10;                    // 3 s for what takes 10 s at ten times its speed
  v = AuditRound(ctx, r);
  EXPECT_NE(FlagsOf(v, 0) & ledger::kFlagTimestamps, 0u) << v[0].note;
  EXPECT_NE(FlagsOf(v, 1) & ledger::kFlagAssignment, 0u) << v[1].note;
  EXPECT_NE(FlagsOf(v, 2) & ledger::kFlagAssignment, 0u) << v[2].note;
  EXPECT_NE(FlagsOf(v, 2) & ledger::kFlagDuplicate, 0u) << v[2].note;
  EXPECT_NE(FlagsOf(v, 3) & ledger::kFlagTimestamps, 0u) << v[3].note;

  r = Round();
  r[0].has_commitments = false;
  r[1].update.reset();
  v = AuditRound(Diloco(), r);
  EXPECT_NE(FlagsOf(v, 0) & ledger::kFlagMissing, 0u);
  EXPECT_NE(FlagsOf(v, 1) & ledger::kFlagMissing, 0u);
  for (const auto& x : v) EXPECT_LE(x.note.size(), 256u);
}

TEST(RoundAudit, UpdatesDecodeOrSayWhyNot) {
  std::string error;
  std::string f32(8, '\0');
  EXPECT_TRUE(UpdateValues(f32, false, &error).has_value());
  EXPECT_FALSE(UpdateValues("abc", false, &error).has_value());
  EXPECT_FALSE(UpdateValues("not an int8 buffer at all", true, &error).has_value());
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(ConsensusAfter(Round()), "after");
}

}  // namespace
}  // namespace cairn::coordinator
