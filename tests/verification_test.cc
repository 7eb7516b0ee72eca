// Proof of honesty, as strangers' machines would test it (docs/verification.md):
// a coordinator, three honest `cairn worker` processes, one dedicated
// verifier (--verify-only), and for each misbehaviour a fresh cheater (a real
// worker process with CAIRN_TEST_MISBEHAVE set) that joins a 4-worker DiLoCo
// job. For every mode the ledger alone, replayed here with the real payout
// engine, must show:
//   - a failing verdict for the cheater, on a round of its probation;
//   - the cheater paid nothing for that job (its held pay forfeited to the
//     escrow), its reputation down, and no receipt from it after the verdict;
//   - the honest workers paid everything the job's compute paid;
//   - the job succeeded with its accuracy target;
//   - every replay of a cheating round failed, and for random, scaled and
//     sign-flip updates every one of its audited rounds was flagged by the
//     cheap checks alone.
// Then two `cairn ledger verify --summary` runs over separate copies of the
// ledger print the same bytes.
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "ledger/entry.h"
#include "ledger/payouts.h"
#include "runtime/base/encoding.h"
#include "tests/local_cluster.h"

namespace cairn {
namespace {

using nlohmann::json;
using Body = ledger::schema::LedgerEntry::Body;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";
constexpr double kAccuracyTarget = 0.70;

std::string JobYaml(const std::string& name) {
  return "name: " + name +
         "\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
         "hyperparameters: {hidden: \"64\", batch_size: 32, steps: 400, lr: 0.002}\n"
         "resources: {workers: 4}\n"
         "strategy: {diloco: {inner_steps: 40, compress: int8, aggregate: trimmed_mean}}\n"
         "checkpoint_every: 1\nmax_retries: 5\n"
         "verify: {p_min: 0.1, probation: 3, window: 10, chain_every: 10}\n"
         "budget: 20\n";
}

class Verification : public ::testing::Test, public testing::LocalCluster {
 protected:
  Verification() : LocalCluster(CAIRN_BINARY, "cairn-verify") {}

  // The raw Ed25519 key of `home`'s identity, or of a key file.
  std::string KeyOf(const std::string& home, const std::string& file = "") {
    std::vector<std::string> args{"keys", "show", "--json"};
    if (!file.empty()) args.insert(args.begin() + 2, file);
    return Base64Decode(testing::Json(Cairn(args, home, false).out).value("ed25519_public", "")).value_or("");
  }
  // The ledger, replayed with the real engine; entries kept for the checks.
  struct Replayed {
    std::vector<std::string> entries;
    std::unique_ptr<ledger::PayoutEngine> engine;
  };
  Replayed Replay() {
    Replayed r;
    r.entries = LedgerEntries();
    r.engine = std::make_unique<ledger::PayoutEngine>(KeyOf("auditor-home", dir() + "/coord/log.key"));
    for (size_t i = 0; i < r.entries.size(); ++i) {
      ::cairn::Status s = r.engine->Apply(i, r.entries[i]);
      EXPECT_TRUE(s.ok()) << "entry " << i << ": " << s;
    }
    return r;
  }
  bool Closed(const std::string& job) {
    for (const std::string& e : LedgerEntries()) {
      auto rd = ledger::EntryReader::Open(e);
      if (rd.ok() && rd->root().getBody().which() == Body::JOB_CLOSED && rd->root().getBody().getJobClosed().getJobId() == job) {
        return true;
      }
    }
    return false;
  }
};

TEST_F(Verification, EveryKindOfCheaterIsCaughtUnpaidAndRemovedWhileHonestWorkersArePaidInFull) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto coordinator = StartCoordinator({"--audit-wait-seconds", "3", "--answer-seconds", "15", "--verify-wait-seconds", "120"});
  ASSERT_EQ(Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT",
                   "--price-per-1k", "0.001"}, "alice-home").code, 0);
  const std::vector<std::string> worker_args{"--threads", "1", "--price-per-hour", "36"};
  std::map<std::string, std::unique_ptr<testing::Subprocess>> honest;
  std::set<std::string> honest_keys;
  for (const char* n : {"h1", "h2", "h3"}) {
    honest[n] = StartWorker(n, worker_args);
    honest_keys.insert(KeyOf("home-" + std::string(n)));
  }
  auto verifier_args = worker_args;
  verifier_args.push_back("--verify-only");
  auto verifier = StartWorker("v", verifier_args);
  const std::string verifier_key = KeyOf("home-v");
  ASSERT_TRUE(WaitForWorkers(4));

  const std::vector<std::string> modes = {"skip",   "lazy",  "wrong-data", "random", "scaled", "sign-flip",
                                          "stale",  "copy",  "forged-timestamps", "refuse-challenge"};
  for (const std::string& mode : modes) {
    SCOPED_TRACE("misbehaviour " + mode);
    const std::string name = "cheat-" + mode;
    auto cheater = StartWorker(name, worker_args, {"CAIRN_TEST_MISBEHAVE=" + mode});
    const std::string cheat_key = KeyOf("home-" + name);
    ASSERT_EQ(cheat_key.size(), 32u);
    ASSERT_TRUE(WaitForWorkers(5));
    const std::string id = Submit(name, JobYaml(name.substr(0, 40)));
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(Poll([&] { return Closed(id); }, 400)) << Logs(id);
    const json st = Status(id);
    EXPECT_EQ(st["state"], "succeeded") << Logs(id);
    // The leader's last line names the final accuracy.
    const std::string logs = Logs(id);
    const size_t acc_at = logs.rfind("test accuracy ");
    ASSERT_NE(acc_at, std::string::npos) << logs;
    EXPECT_GE(std::stod(logs.substr(acc_at + 14)), kAccuracyTarget) << logs;
    if (std::getenv("CAIRN_TEST_VERBOSE")) std::printf("%s\n", logs.c_str());

    Replayed r = Replay();
    // The failing verdict, on a round of the cheater's probation, signed by the verifier.
    uint64_t verdict_index = 0;
    uint64_t fail_round = 0;
    uint32_t fail_attempt = 0;
    size_t cheater_passes = 0;
    for (size_t i = 0; i < r.entries.size(); ++i) {
      auto rd = ledger::EntryReader::Open(r.entries[i]).value();
      auto b = rd.root().getBody();
      if (b.which() != Body::VERDICT || b.getVerdict().getJobId() != id || ledger::FromData(b.getVerdict().getWorker()) != cheat_key) continue;
      const std::string result = b.getVerdict().getResult().cStr();
      if (result == "fail" && verdict_index == 0) {
        verdict_index = i;
        fail_round = b.getVerdict().getRound();
        fail_attempt = b.getVerdict().getAttempt();
        EXPECT_EQ(ledger::FromData(rd.root().getActor()), verifier_key) << "convictions come from the verifier's replay";
      }
      // Stale and copy send the round before's update: their first round is honest.
      const bool cheated = !((mode == "stale" || mode == "copy") && b.getVerdict().getRound() == 1);
      cheater_passes += cheated && result == "pass";
    }
    ASSERT_NE(verdict_index, 0u) << "no failing verdict for the cheater\n" << Logs(id);
    EXPECT_LE(fail_round, 3u) << "caught within its probation";
    EXPECT_EQ(cheater_passes, 0u) << "every replay of a cheating round fails";
    // It leaves the job: no receipt of it in any later attempt, and none accepted after the verdict.
    for (size_t i = verdict_index; i < r.entries.size(); ++i) {
      auto rd = ledger::EntryReader::Open(r.entries[i]).value();
      auto b = rd.root().getBody();
      if (b.which() == Body::RECEIPT_ACCEPTED && b.getReceiptAccepted().getJobId() == id) {
        EXPECT_NE(ledger::FromData(b.getReceiptAccepted().getWorker()), cheat_key) << "a round of the cheater accepted after its verdict";
      }
      if (b.which() == Body::STEP_RECEIPT && b.getStepReceipt().getJobId() == id && b.getStepReceipt().getAttempt() > fail_attempt) {
        EXPECT_NE(ledger::FromData(rd.root().getActor()), cheat_key) << "the cheater worked on the redone job";
      }
    }
    // Money: the cheater earned nothing here, the honest workers everything the compute paid.
    uint64_t cheater_compute = 0, honest_compute = 0;
    for (const auto& e : r.engine->earnings()) {
      if (e.job != id || e.reason != "compute") continue;
      if (e.account == cheat_key) cheater_compute += e.micros;
      if (honest_keys.count(e.account)) honest_compute += e.micros;
    }
    auto funds = r.engine->Funds(id).value();
    EXPECT_EQ(cheater_compute, 0u);
    EXPECT_GT(funds.forfeited, 0u) << "its held pay went back to the escrow";
    EXPECT_EQ(honest_compute, funds.compute) << "the honest workers are paid in full";
    EXPECT_GT(honest_compute, 0u);
    EXPECT_EQ(funds.held, 0u);
    for (const std::string& k : honest_keys) EXPECT_EQ(r.engine->HeldFor(k), 0u);
    EXPECT_TRUE(r.engine->Removed(id, cheat_key));
    ledger::WorkerRecord rec = r.engine->RecordOf(cheat_key);
    EXPECT_GE(rec.fails, 1u);
    ledger::WorkerRecord clean = rec;
    clean.fails = 0;
    EXPECT_LT(ledger::ReputationPpm(rec), ledger::ReputationPpm(clean)) << "its reputation drops";
    // The cheap checks alone flag every audited round of an update-poisoning cheater.
    if (mode == "random" || mode == "scaled" || mode == "sign-flip") {
      size_t audited = 0, flagged = 0;
      for (const std::string& e : r.entries) {
        auto rd = ledger::EntryReader::Open(e).value();
        auto b = rd.root().getBody();
        if (b.which() != Body::ROUND_AUDITED || b.getRoundAudited().getJobId() != id) continue;
        for (auto row : b.getRoundAudited().getRows()) {
          if (ledger::FromData(row.getWorker()) != cheat_key) continue;
          ++audited;
          flagged += row.getFlags() != 0;
        }
      }
      EXPECT_GT(audited, 0u);
      EXPECT_EQ(flagged, audited) << "cheap checks missed a poisoned round";
    }
    // What verification cost: replayed worker-rounds, and verifiers' signed
    // replay time against the workers' signed training time.
    uint64_t worker_rounds = 0, replayed = 0;
    int64_t train_ms = 0, verify_ms = 0;
    for (const std::string& e : r.entries) {
      auto rd = ledger::EntryReader::Open(e).value();
      auto b = rd.root().getBody();
      if (b.which() == Body::STEP_RECEIPT && b.getStepReceipt().getJobId() == id) {
        ++worker_rounds;
        train_ms += b.getStepReceipt().getEndUnixMillis() - b.getStepReceipt().getStartUnixMillis();
      }
      if (b.which() == Body::VERDICT && b.getVerdict().getJobId() == id && ledger::FromData(rd.root().getActor()) != r.engine->operator_key()) {
        ++replayed;
        verify_ms += b.getVerdict().getReplayEndUnixMillis() - b.getVerdict().getReplayStartUnixMillis();
      }
    }
    std::printf("%-18s caught at round %llu (attempt %u); forfeited %.6f, honest compute %.6f credits; "
                "%llu of %llu worker-rounds replayed, verifier time / training time %.2f\n",
                mode.c_str(), static_cast<unsigned long long>(fail_round), fail_attempt, funds.forfeited / 1e6,
                honest_compute / 1e6, static_cast<unsigned long long>(replayed), static_cast<unsigned long long>(worker_rounds),
                train_ms > 0 ? static_cast<double>(verify_ms) / static_cast<double>(train_ms) : 0.0);
    cheater.reset();  // SIGTERM: it leaves
    ASSERT_TRUE(Poll([&] { return !WaitForWorkers(5); }, 30));
  }

  // Two replays of the ledger on separate copies print the same bytes.
  const std::string copy_a = dir() + "/copy-a", copy_b = dir() + "/copy-b";
  for (const std::string& to : {copy_a, copy_b}) {
    std::filesystem::create_directories(to);
    for (const char* f : {"ledger.db", "log.key", "ledger.db-wal"}) {
      if (std::filesystem::exists(dir() + "/coord/" + f)) std::filesystem::copy_file(dir() + "/coord/" + f, to + "/" + f);
    }
  }
  auto a = Cairn({"ledger", "verify", copy_a, "--summary"}, "auditor-a", false);
  auto b = Cairn({"ledger", "verify", copy_b, "--summary"}, "auditor-b", false);
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out.find("fail [step"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("reputations"), std::string::npos);
}

}  // namespace
}  // namespace cairn
