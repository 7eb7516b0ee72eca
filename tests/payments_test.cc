// Training is paid for, as users run it: a coordinator and `cairn worker`
// processes on loopback, Fashion-MNIST registered by a data owner, and an
// engineer who is credited, asks for an estimate, and submits with a budget.
// Afterwards the ledger alone is read (over HTTP, as an auditor reads it) and
// every worker's compute pay and the data owner's royalty are recomputed
// from the placements, receipts and acceptances in it, independently of the
// payout engine, and compared with what `cairn payouts --json` reports. A
// second job runs out of budget, stops with a checkpoint and an exact refund,
// and after a signed top-up resumes from that checkpoint and finishes.
// Submissions that cannot pay, or whose licences conflict, are refused at
// submit with the amounts or the rule named.
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "ledger/entry_json.h"
#include "ledger/log_reader.h"
#include "tests/local_cluster.h"

namespace cairn {
namespace {

using nlohmann::json;

constexpr char kFashion[] = "/usr/share/datasets/fashion-mnist";

class PaymentsSystem : public ::testing::Test, public testing::LocalCluster {
 protected:
  PaymentsSystem() : LocalCluster(CAIRN_BINARY, "cairn-pay") {}

  std::vector<json> Ledger() {
    auto reader = ledger::NewHttpReader("http://127.0.0.1:" + std::to_string(http_port()));
    EXPECT_TRUE(reader.ok()) << reader.status();
    std::vector<json> out;
    if (!reader.ok()) return out;
    // The log's size is the second line of its checkpoint (C2SP tlog-checkpoint).
    auto note = (*reader)->Checkpoint();
    EXPECT_TRUE(note.ok()) << note.status();
    if (!note.ok()) return out;
    const size_t nl = note->find('\n');
    const uint64_t size = std::stoull(note->substr(nl + 1, note->find('\n', nl + 1) - nl - 1));
    auto entries = (*reader)->Entries(0, size);
    EXPECT_TRUE(entries.ok()) << entries.status();
    if (!entries.ok()) return out;
    for (const auto& e : *entries) out.push_back(ledger::EntryToJson(e).value());
    return out;
  }
  // The jobClosed entries of `job`, in log order.
  std::vector<json> Closes(const std::string& job) {
    std::vector<json> out;
    for (const auto& e : Ledger()) {
      if (e["type"] == "jobClosed" && e["body"]["job_id"] == job) out.push_back(e["body"]);
    }
    return out;
  }
  bool WaitClosed(const std::string& job, size_t n, int seconds) {
    return Poll([&] { return Closes(job).size() >= n; }, seconds);
  }
  // Runs `cairn payouts --json`: account -> its row.
  std::map<std::string, json> Payouts() {
    auto r = Cairn({"payouts", "--json"}, "auditor-home");
    EXPECT_EQ(r.code, 0) << r.out;
    std::map<std::string, json> rows;
    const json all = testing::Json(r.out);  // (a range-for over a temporary's member would dangle)
    for (const auto& row : all["payouts"]) rows[row["account"].get<std::string>()] = row;
    if (rows.empty()) ADD_FAILURE() << "cairn payouts printed no payouts: " << r.out.substr(r.out.size() > 600 ? r.out.size() - 600 : 0);
    return rows;
  }
};

__extension__ typedef unsigned __int128 U128;  // products of millis and prices, as the engine computes them

uint64_t At(const json& row, const char* reason) {
  return row.contains("by_reason") && row["by_reason"].contains(reason) ? row["by_reason"][reason].get<uint64_t>() : 0;
}

// The pay rules of docs/ledger.md ("Payouts"), computed from the entries'
// JSON alone: per account, compute and data, for job `job`.
struct Recomputed {
  std::map<std::string, uint64_t> compute, data;
  uint64_t paid = 0, budget = 0, refunded = 0;
};
Recomputed Recompute(const std::vector<json>& entries, const std::string& job) {
  Recomputed r;
  std::map<std::string, std::pair<std::string, uint64_t>> datasets;  // id -> (owner, price per 1k)
  std::map<std::pair<uint32_t, std::string>, std::pair<uint64_t, int64_t>> seats;  // (attempt, worker) -> (price, since)
  std::map<std::tuple<uint32_t, uint64_t, std::string>, json> receipts;
  auto floor_div = [](U128 a, uint64_t b) { return static_cast<uint64_t>(a / b); };
  for (const json& e : entries) {
    const json& b = e["body"];
    const std::string type = e["type"];
    const int64_t ts = e["timestamp_unix_millis"];
    if (type == "datasetRegistered") datasets[b["dataset_id"]] = {e["actor"], b["price_per_1k_samples_micros"]};
    if (!b.contains("job_id") || b["job_id"] != job) continue;
    if (type == "jobSubmitted") r.budget += b["budget_micros"].get<uint64_t>();
    if (type == "jobToppedUp") r.budget += b["amount_micros"].get<uint64_t>();
    if (type == "jobPlaced") {
      for (const auto& w : b["workers"]) seats[{b["attempt"], w["worker"]}] = {w["price_per_hour_micros"], ts};
    }
    if (type == "stepReceipt") receipts[{b["attempt"], b["round"], e["actor"]}] = b;
    if (type == "jobClosed") {
      r.refunded += b["refund_micros"].get<uint64_t>();
      seats.clear();
    }
    if (type != "receiptAccepted") continue;
    const json& receipt = receipts.at({b["attempt"], b["round"], b["worker"]});
    auto& [price, since] = seats.at({b["attempt"], b["worker"]});
    const int64_t signed_ms = receipt["end_unix_millis"].get<int64_t>() - receipt["start_unix_millis"].get<int64_t>();
    const int64_t millis = std::min(signed_ms, std::max<int64_t>(0, ts - since));
    since = std::max(since, ts);
    const uint64_t left = r.budget - r.paid - r.refunded;
    const uint64_t compute = std::min(left, floor_div(static_cast<U128>(millis) * price, 3'600'000));
    r.compute[b["worker"]] += compute;
    r.paid += compute;
    std::map<std::string, uint64_t> samples;
    for (const auto& use : receipt["consumed"]) samples[use["dataset_id"]] += use["samples"].get<uint64_t>();
    for (const auto& [d, n] : samples) {
      const auto& [owner, per_1k] = datasets.at(d);
      const uint64_t owed = std::min(r.budget - r.paid - r.refunded, floor_div(static_cast<U128>(n) * per_1k, 1000));
      r.data[owner] += owed;
      r.paid += owed;
    }
  }
  return r;
}

TEST_F(PaymentsSystem, TheExampleJobPaysItsWorkersAndDataOwnerExactlyAndRefundsTheRest) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto coordinator = StartCoordinator();
  auto add = Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT",
                    "--price-per-1k", "0.001", "--json"}, "alice-home");
  ASSERT_EQ(add.code, 0) << add.out;
  const std::string alice = testing::Json(Cairn({"accounts", "create", "--json"}, "alice-home", false).out)["account"];
  std::map<std::string, std::unique_ptr<testing::Subprocess>> workers;
  for (const char* n : {"w1", "w2"}) workers[n] = StartWorker(n, {"--threads", "1", "--price-per-hour", "36"});
  ASSERT_TRUE(WaitForWorkers(2));
  const std::string engineer = Fund("engineer-home", "10");

  // The estimate, then the job as the example is written (budget 5).
  const std::string example = std::string(CAIRN_EXAMPLES) + "/fashion-mnist.yaml";
  auto dry = Cairn({"submit", example, "--dry-run", "--json"}, "engineer-home");
  ASSERT_EQ(dry.code, 0) << dry.out;
  const json estimate = testing::Json(dry.out);
  ASSERT_EQ(estimate["workers"].size(), 2u) << estimate.dump();
  EXPECT_GT(estimate["compute_micros"].get<uint64_t>(), 0u) << estimate.dump();
  EXPECT_EQ(estimate["available_micros"].get<int64_t>(), 10'000'000);
  auto sub = Cairn({"submit", example, "--json"}, "engineer-home");
  ASSERT_EQ(sub.code, 0) << sub.out;
  const std::string id = testing::Json(sub.out)["id"];
  ASSERT_TRUE(WaitClosed(id, 1, 600)) << Logs(id);
  EXPECT_EQ(Status(id)["state"], "succeeded") << Logs(id);

  const std::vector<json> entries = Ledger();
  Recomputed mine = Recompute(entries, id);
  const json closed = Closes(id).at(0);
  EXPECT_EQ(closed["outcome"], "succeeded");
  EXPECT_EQ(mine.budget, 5'000'000u);
  uint64_t compute_total = 0;
  for (const auto& [w, micros] : mine.compute) compute_total += micros;
  EXPECT_EQ(closed["compute_micros"].get<uint64_t>(), compute_total);
  EXPECT_EQ(closed["refund_micros"].get<uint64_t>(), mine.budget - mine.paid) << "the refund is the budget less what was paid";
  EXPECT_EQ(mine.compute.size(), 2u) << "both workers were paid";
  EXPECT_GT(compute_total, 100'000u) << "compute is a measurable part of the cost";

  auto payouts = Payouts();
  for (const auto& [worker, micros] : mine.compute) EXPECT_EQ(At(payouts[worker], "compute"), micros) << worker;
  EXPECT_EQ(At(payouts[alice], "data"), mine.data[alice]);
  EXPECT_EQ(mine.data[alice], 720'000u) << "12 epochs of 60,000 samples at 0.001 per 1,000";
  EXPECT_EQ(payouts[engineer]["available_micros"].get<int64_t>(), 10'000'000 - static_cast<int64_t>(mine.paid));
  EXPECT_EQ(payouts[engineer]["escrow_micros"].get<uint64_t>(), 0u) << "no escrow remains after jobClosed";
  EXPECT_EQ(At(payouts[engineer], "refund"), mine.budget - mine.paid);
  auto shown = Cairn({"accounts", "show"}, "engineer-home");
  EXPECT_NE(shown.out.find("refund"), std::string::npos) << shown.out;

  // The estimate is within 2x of what the run cost.
  const double est = estimate["total_micros"].get<double>(), cost = static_cast<double>(mine.paid);
  std::printf("estimate %.0f, cost %.0f micro-credits (ratio %.2f); compute estimate %llu, paid %llu\n", est, cost,
              est / cost, static_cast<unsigned long long>(estimate["compute_micros"].get<uint64_t>()),
              static_cast<unsigned long long>(compute_total));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  std::printf("(a sanitizer build: its run times say nothing of the estimate's; the 2x check is skipped)\n");
#else
  EXPECT_LE(est, 2 * cost);
  EXPECT_GE(est, cost / 2);
#endif
}

TEST_F(PaymentsSystem, ABudgetThatRunsOutStopsWithACheckpointAndAnExactRefundThenResumesAfterATopUp) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto coordinator = StartCoordinator();
  ASSERT_EQ(Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT",
                   "--price-per-1k", "0.1"}, "alice-home").code, 0);
  auto worker = StartWorker("w1", {"--threads", "1", "--price-per-hour", "36"});
  ASSERT_TRUE(WaitForWorkers(1));
  const std::string engineer = Fund("engineer-home", "20");
  // 10 rounds of 6,400 samples (0.64 credits of data each): 2 credits pay three.
  std::ofstream(dir() + "/short.yaml") << "name: short\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\n"
                                          "hyperparameters: {steps: 1000, round_steps: 100, batch_size: 64}\n"
                                          "checkpoint_every: 1\nbudget: 2\noutput: {model: short-mlp, license: MIT}\n";
  auto sub = Cairn({"submit", dir() + "/short.yaml", "--json"}, "engineer-home");
  ASSERT_EQ(sub.code, 0) << sub.out;
  const std::string id = testing::Json(sub.out)["id"];
  ASSERT_TRUE(WaitClosed(id, 1, 300)) << Logs(id);
  EXPECT_EQ(Status(id)["state"], "budget exhausted") << Logs(id);
  const json first = Closes(id).at(0);
  EXPECT_EQ(first["outcome"], "budget exhausted");
  Recomputed mine = Recompute(Ledger(), id);
  EXPECT_EQ(first["refund_micros"].get<uint64_t>(), 2'000'000 - mine.paid) << "refund = budget - paid, exactly";
  EXPECT_LT(first["refund_micros"].get<uint64_t>(), 700'000u) << "it stopped when a round no longer fitted";
  uint64_t checkpoint = 0;
  for (const auto& e : Ledger()) {
    if (e["type"] == "checkpointCommitted" && e["body"]["job_id"] == id) checkpoint = std::max<uint64_t>(checkpoint, e["body"]["round"]);
  }
  ASSERT_GE(checkpoint, 1u) << "it stopped with a checkpoint";
  EXPECT_EQ(Payouts()[engineer]["available_micros"].get<int64_t>(), 20'000'000 - static_cast<int64_t>(mine.paid));

  // Someone else cannot top it up; its submitter can, and it resumes there.
  Fund("stranger-home", "50");
  auto stranger = Cairn({"top-up", id, "--amount", "10"}, "stranger-home");
  EXPECT_NE(stranger.code, 0) << stranger.out;
  EXPECT_NE(stranger.out.find("submitter"), std::string::npos) << stranger.out;
  auto stranger_cancel = Cairn({"cancel", id}, "stranger-home");  // (it would close the job and refund it)
  EXPECT_NE(stranger_cancel.code, 0) << stranger_cancel.out;
  EXPECT_NE(stranger_cancel.out.find("only job " + id + "'s submitter may cancel it"), std::string::npos) << stranger_cancel.out;
  auto top = Cairn({"top-up", id, "--amount", "10"}, "engineer-home");
  ASSERT_EQ(top.code, 0) << top.out;
  ASSERT_TRUE(WaitClosed(id, 2, 300)) << Logs(id);
  EXPECT_EQ(Status(id)["state"], "succeeded") << Logs(id);
  EXPECT_NE(Logs(id).find("resuming from round " + std::to_string(checkpoint)), std::string::npos) << Logs(id);
  mine = Recompute(Ledger(), id);
  EXPECT_EQ(mine.budget, 12'000'000u);
  EXPECT_EQ(mine.refunded, mine.budget - mine.paid);
  auto payouts = Payouts();
  EXPECT_EQ(payouts[engineer]["available_micros"].get<int64_t>(), 20'000'000 - static_cast<int64_t>(mine.paid));
  EXPECT_EQ(payouts[engineer]["escrow_micros"].get<uint64_t>(), 0u);
}

TEST_F(PaymentsSystem, SubmissionsThatCannotPayOrBreakALicenceAreRefusedAtSubmit) {
  if (!std::filesystem::exists(kFashion)) GTEST_SKIP() << "dataset-fashion-mnist not installed (scripts/setup does)";
  auto coordinator = StartCoordinator();
  ASSERT_EQ(Cairn({"dataset", "add", kFashion, "--name", "fashion-mnist", "--format", "idx", "--license", "MIT"}, "alice-home").code, 0);
  const std::map<std::string, std::string> texts = {
      {"nc-text", "CC-BY-NC-4.0"}, {"sa-text", "CC-BY-SA-4.0"}, {"nd-text", "CC-BY-ND-4.0"}, {"odd-text", "LicenseRef-mine"}};
  for (const auto& [name, licence] : texts) {
    std::ofstream(dir() + "/" + name + ".txt") << name << ": " << std::string(4096, 'a' + name.size() % 20) << "\n";
    auto r = Cairn({"dataset", "add", dir() + "/" + name + ".txt", "--name", name, "--format", "text", "--license", licence},
                   "bob-home");
    ASSERT_EQ(r.code, 0) << r.out;
  }
  auto submit = [&](const std::string& name, const std::string& yaml, const std::string& home) {
    std::ofstream(dir() + "/" + name + ".yaml") << yaml;
    return Cairn({"submit", dir() + "/" + name + ".yaml"}, home);
  };
  const std::string gpt = "kind: train\nmodel: char-gpt\nhyperparameters: {steps: 5, layers: 1, heads: 2, width: 16, context: 8}\n";

  // No credits: both amounts named.
  auto poor = submit("poor", "name: poor\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\nhyperparameters: {steps: 50}\n"
                            "budget: 5\n", "poor-home");
  EXPECT_NE(poor.code, 0);
  EXPECT_NE(poor.out.find("0.000000 credits available"), std::string::npos) << poor.out;
  EXPECT_NE(poor.out.find("needs 5.000000 credits"), std::string::npos) << poor.out;
  // No budget: refused with the estimate.
  Fund("engineer-home", "10");
  auto free = submit("free", "name: free\nkind: train\nmodel: mlp\ndatasets: [fashion-mnist]\nhyperparameters: {steps: 50}\n",
                     "engineer-home");
  EXPECT_NE(free.code, 0);
  EXPECT_NE(free.out.find("needs a budget"), std::string::npos) << free.out;
  EXPECT_NE(free.out.find("the estimate is"), std::string::npos) << free.out;

  // Each licence rule, refused with the dataset, its licence and the rule.
  struct Case { std::string dataset, extra, says; };
  for (const Case& c : std::vector<Case>{
           {"nc-text", "output: {license: CC-BY-NC-4.0, terms: {finetune_fee: 1}}\n", "nc-text is CC-BY-NC-4.0: rule NC"},
           {"nc-text", "output: {license: MIT}\n", "nc-text is CC-BY-NC-4.0: rule NC"},
           {"sa-text", "output: {license: MIT}\n", "sa-text is CC-BY-SA-4.0: rule SA"},
           {"nd-text", "output: {license: CC-BY-ND-4.0}\n", "nd-text is CC-BY-ND-4.0: rule ND"},
           {"odd-text", "output: {license: MIT}\n", "odd-text is LicenseRef-mine: rule UNKNOWN"}}) {
    auto r = submit("lic", "name: lic\n" + gpt + "datasets: [" + c.dataset + "]\nbudget: 1\n" + c.extra, "engineer-home");
    EXPECT_NE(r.code, 0) << c.says;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << r.out;
  }
  // What the rules allow goes in: the same share-alike licence, and an
  // unknown one the spec opts in to.
  EXPECT_EQ(submit("sa-ok", "name: sa-ok\n" + gpt + "datasets: [sa-text]\nbudget: 1\noutput: {license: CC-BY-SA-4.0}\n",
                   "engineer-home").code, 0);
  EXPECT_EQ(submit("odd-ok", "name: odd-ok\n" + gpt + "datasets: [odd-text]\nbudget: 1\nallow_unknown_licenses: true\n",
                   "engineer-home").code, 0);
  auto jobs = testing::Json(Cairn({"jobs", "--json"}, "engineer-home").out);
  EXPECT_EQ(jobs.size(), 2u) << "nothing refused was kept: " << jobs.dump();
}

}  // namespace
}  // namespace cairn
