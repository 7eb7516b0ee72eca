// How soon a persistent cheater is caught (docs/verification.md), simulated
// over the real settlement function: the payout engine draws challenges
// from the tree head of a real log of signed entries, exactly as every
// replay of the ledger does. The cheater has a clean history (100 paid
// rounds: reputation 0.91, so p = p_min) and cheats every round in a
// way no cheap check sees (a lazy worker); a round is caught when the log
// draws it for a replay (which the replay then fails: tests/verification_test).
// Each trial is a new job, so its entries and tree heads differ; keys and
// timestamps are fixed, so a run repeats exactly.
//   build/bench/detection_sim [trials=1000] [rounds=30] [p_min=0.10]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "ledger/payouts.h"

namespace {

using namespace cairn;
using namespace cairn::ledger;
using Builder = schema::LedgerEntry::Body::Builder;

// Fixed keys and clock: the same entries, tree heads and draws on every run.
Ed25519PrivateKey KeyFor(const std::string& who) { return Ed25519PrivateKey::FromSeed(DigestView(Sha256(who))).value(); }

struct Sim {
  Ed25519PrivateKey op = KeyFor("detection-sim operator");
  Ed25519PrivateKey engineer = KeyFor("detection-sim engineer");
  Ed25519PrivateKey cheater = KeyFor("detection-sim cheater");
  int64_t ts = 1'764'000'000'000;
  std::string Entry(const Ed25519PrivateKey& k, const BodyFiller& f) {
    ts += 1000;
    return MakeEntry(k, ts, f).value();
  }
  void Apply(PayoutEngine& e, uint64_t* next, const std::string& entry) {
    Status s = e.Apply((*next)++, entry);
    if (!s.ok()) {
      std::printf("engine refused entry %llu: %s\n", static_cast<unsigned long long>(*next - 1), s.ToString().c_str());
      std::exit(1);
    }
  }
  void Job(PayoutEngine& e, uint64_t* next, const std::string& id, uint32_t ppm, uint32_t hold) {
    Apply(e, next, Entry(engineer, [&](Builder b) {
      auto j = b.initJobSubmitted();
      j.setJobId(id);
      j.setSpecHash(AsData(std::string(32, 's')));
      j.setBudgetMicros(1'000'000);
      j.setReplayPpm(ppm);
      j.setHoldRounds(hold);
    }));
    Apply(e, next, Entry(op, [&](Builder b) {
      auto p = b.initJobPlaced();
      p.setJobId(id);
      p.setAttempt(1);
      auto w = p.initWorkers(1);
      w[0].setWorker(AsData(cheater.public_key().bytes()));
      w[0].setPricePerHourMicros(3600);
    }));
  }
  // One round of the cheater's: receipt, acceptance and (verified jobs) the audit.
  void Round(PayoutEngine& e, uint64_t* next, const std::string& id, uint64_t round, bool audit) {
    Apply(e, next, Entry(cheater, [&](Builder b) {
      auto r = b.initStepReceipt();
      r.setJobId(id);
      r.setAttempt(1);
      r.setRound(round);
      r.setSteps(50);
      r.setStartUnixMillis(ts - 500);
      r.setEndUnixMillis(ts);
      r.setFingerprintBefore(AsData(std::string(32, 'a')));
      r.setFingerprintAfter(AsData(std::string(32, 'b')));
    }));
    Apply(e, next, Entry(op, [&](Builder b) {
      auto a = b.initReceiptAccepted();
      a.setJobId(id);
      a.setAttempt(1);
      a.setRound(round);
      a.setWorker(AsData(cheater.public_key().bytes()));
    }));
    if (!audit) return;
    Apply(e, next, Entry(op, [&](Builder b) {
      auto a = b.initRoundAudited();
      a.setJobId(id);
      a.setAttempt(1);
      a.setRound(round);
      auto rows = a.initRows(1);
      rows[0].setWorker(AsData(cheater.public_key().bytes()));
    }));
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int trials = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 30;
  const double p_min = argc > 3 ? std::atof(argv[3]) : 0.10;
  const uint32_t ppm = static_cast<uint32_t>(std::llround(p_min * 1e6));
  Sim sim;
  PayoutEngine base(sim.op.public_key().bytes());
  uint64_t next = 0;
  sim.Apply(base, &next, sim.Entry(sim.op, [&](Builder b) {
    auto c = b.initAccountCredited();
    c.setAccount(AsData(sim.engineer.public_key().bytes()));
    c.setAmountMicros(1'000'000'000'000);
  }));
  // The clean history: 100 paid rounds of an unverified job.
  sim.Job(base, &next, "history", 0, 0);
  for (uint64_t r = 1; r <= 100; ++r) sim.Round(base, &next, "history", r, false);
  const uint32_t rep = ReputationPpm(base.RecordOf(sim.cheater.public_key().bytes()));
  std::printf("cheater: reputation %.3f after 100 clean rounds, p = max(p_min, 1 - reputation) = %.3f\n", rep / 1e6,
              ReplayProbabilityPpm(ppm, base.RecordOf(sim.cheater.public_key().bytes())) / 1e6);
  int caught = 0;
  double sum_round = 0;
  for (int t = 0; t < trials; ++t) {
    PayoutEngine e = base;  // every trial starts from the same history
    uint64_t n = next;
    const std::string id = "trial-" + std::to_string(t);
    sim.Job(e, &n, id, ppm, static_cast<uint32_t>(std::ceil(1.0 / p_min)));
    for (int r = 1; r <= rounds; ++r) {
      sim.Round(e, &n, id, static_cast<uint64_t>(r), true);
      if (e.challenges().count(ChallengeKey{id, 1, static_cast<uint64_t>(r), sim.cheater.public_key().bytes()})) {
        ++caught;
        sum_round += r;
        break;
      }
    }
  }
  const double rate = static_cast<double>(caught) / trials;
  std::printf("p_min %.2f, %d trials: caught within %d rounds in %d (%.1f%%); analytic 1 - (1 - p)^%d = %.1f%%; "
              "mean round of capture %.1f\n",
              p_min, trials, rounds, caught, 100 * rate, rounds, 100 * (1 - std::pow(1 - p_min, rounds)),
              caught ? sum_round / caught : 0.0);
  return rate >= 0.95 ? 0 : 2;
}
