#include "worker/verify_task.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <thread>

#include "ledger/entry.h"
#include "runtime/base/encoding.h"
#include "train/train_config.h"
#include "worker/receipts.h"

namespace cairn::worker {
namespace {

using ledger::schema::LedgerEntry;
using Body = LedgerEntry::Body;

// What the ledger says of the challenged round.
struct RoundRecord {
  std::string spec_hash;            // jobSubmitted.specHash
  std::vector<std::string> datasets;
  std::string operator_key;         // who signed the acceptance
  int64_t window_ms = 0;            // the seat's placement: when the round could start at the earliest
  int64_t previous_end_ms = 0;      // the end its previous round claimed (0: none)
  int64_t accepted_ms = 0;          // when the coordinator saw it end
  int64_t start_ms = 0, end_ms = 0;
  uint32_t steps = 0, rank = 0, group = 1, chain_every = 1;
  std::string fingerprint_before, update_hash, steps_hash, state_hash, optimizer_hash, profile;
  std::string previous_optimizer;   // the worker's receipt of the round before ("": none)
};

StatusOr<LedgerEntry::Reader> Read(CoordinatorHttp& http, uint64_t index, std::optional<ledger::EntryReader>* keep,
                                   const char* what) {
  ASSIGN_OR_RETURN(std::string bytes, http.Entry(index));
  auto valid = ledger::ValidateEntry(bytes);
  if (!valid.ok()) return InvalidArgumentError(std::string(what) + " (entry " + std::to_string(index) + "): " + valid.status().ToString());
  ASSIGN_OR_RETURN(ledger::EntryReader r, ledger::EntryReader::Open(bytes));
  keep->emplace(std::move(r));
  return (*keep)->root();
}

Status Expect(bool ok, uint64_t index, const std::string& what) {
  if (!ok) return InvalidArgumentError("ledger entry " + std::to_string(index) + " is not " + what);
  return OkStatus();
}

StatusOr<RoundRecord> ReadRound(CoordinatorHttp& http, const jobspec::VerifyTarget& t, const std::string& worker) {
  RoundRecord rec;
  std::optional<ledger::EntryReader> a, b, c, d, e;
  ASSIGN_OR_RETURN(auto sub, Read(http, t.submitted, &a, "the submission"));
  RETURN_IF_ERROR(Expect(sub.getBody().which() == Body::JOB_SUBMITTED && sub.getBody().getJobSubmitted().getJobId() == t.job,
                         t.submitted, "the jobSubmitted of " + t.job));
  rec.spec_hash = ledger::FromData(sub.getBody().getJobSubmitted().getSpecHash());
  for (auto id : sub.getBody().getJobSubmitted().getDatasets()) rec.datasets.push_back(ledger::FromData(id));

  ASSIGN_OR_RETURN(auto rcpt, Read(http, t.receipt, &b, "the receipt"));
  auto r = rcpt.getBody().getStepReceipt();
  RETURN_IF_ERROR(Expect(rcpt.getBody().which() == Body::STEP_RECEIPT && ledger::FromData(rcpt.getActor()) == worker &&
                             r.getJobId() == t.job && r.getAttempt() == t.attempt && r.getRound() == t.round,
                         t.receipt, "the challenged worker's receipt for that round"));
  rec.start_ms = r.getStartUnixMillis();
  rec.end_ms = r.getEndUnixMillis();
  rec.steps = r.getSteps();
  rec.rank = r.getRank();
  rec.group = std::max<uint32_t>(1, r.getMembers().size());
  rec.chain_every = std::max<uint32_t>(1, r.getChainEvery());
  rec.fingerprint_before = ledger::FromData(r.getFingerprintBefore());
  rec.update_hash = ledger::FromData(r.getUpdateHash());
  rec.steps_hash = ledger::FromData(r.getStepsHash());
  rec.state_hash = ledger::FromData(r.getStateHash());
  rec.optimizer_hash = ledger::FromData(r.getOptimizerHash());
  rec.profile = r.getProfile().cStr();

  ASSIGN_OR_RETURN(auto acc, Read(http, t.accepted, &c, "the acceptance"));
  auto ra = acc.getBody().getReceiptAccepted();
  RETURN_IF_ERROR(Expect(acc.getBody().which() == Body::RECEIPT_ACCEPTED && ra.getJobId() == t.job &&
                             ra.getAttempt() == t.attempt && ra.getRound() == t.round && ledger::FromData(ra.getWorker()) == worker,
                         t.accepted, "that receipt's acceptance"));
  rec.operator_key = ledger::FromData(acc.getActor());
  rec.accepted_ms = acc.getTimestampUnixMillis();

  ASSIGN_OR_RETURN(auto win, Read(http, t.window, &d, "the seat's placement"));
  bool placed = win.getBody().which() == Body::JOB_PLACED && win.getBody().getJobPlaced().getJobId() == t.job &&
                win.getBody().getJobPlaced().getAttempt() == t.attempt;
  if (placed) {
    bool names = false;
    for (auto w : win.getBody().getJobPlaced().getWorkers()) names = names || ledger::FromData(w.getWorker()) == worker;
    placed = names;
  }
  RETURN_IF_ERROR(Expect(placed && ledger::FromData(win.getActor()) == rec.operator_key, t.window,
                         "the jobPlaced that placed the worker on that attempt"));
  rec.window_ms = win.getTimestampUnixMillis();

  if (t.previous != 0) {
    ASSIGN_OR_RETURN(auto prev, Read(http, t.previous, &e, "the previous receipt"));
    auto p = prev.getBody().getStepReceipt();
    RETURN_IF_ERROR(Expect(prev.getBody().which() == Body::STEP_RECEIPT && ledger::FromData(prev.getActor()) == worker &&
                               p.getJobId() == t.job && p.getAttempt() == t.attempt && p.getRound() + 1 == t.round,
                           t.previous, "the worker's receipt of the round before"));
    // Under another uid it rejoined, and adopted the group's state: no chain.
    const auto uid_of = [](auto receipt) { return receipt.getRank() < receipt.getMembers().size() ? int64_t{receipt.getMembers()[receipt.getRank()]} : -1; };
    if (uid_of(p) != uid_of(r)) return rec;
    rec.previous_optimizer = ledger::FromData(p.getOptimizerHash());
    rec.previous_end_ms = p.getEndUnixMillis();
  }
  return rec;
}

std::string Raw(const kernels::Digest256& d) { return std::string(reinterpret_cast<const char*>(d.data()), d.size()); }

}  // namespace

StatusOr<std::string> RunVerifyTask(const TaskContext& c) {
  const jobspec::VerifyTarget& t = c.spec.target;
  ASSIGN_OR_RETURN(std::string worker, DecodeAccount(t.worker));
  const int64_t started = c.env.clock->NowUnixMillis();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(t.answer_seconds);
  CoordinatorHttp http(c.env.Http());
  ASSIGN_OR_RETURN(RoundRecord rec, ReadRound(http, t, worker));
  const std::string who = HexEncode(worker).substr(0, 8);
  c.io.log("replaying round " + std::to_string(t.round) + " of " + t.job + " by " + who);

  VerdictReport v{t.job, t.attempt, t.round, worker, "pass", 0, "", started, 0, c.env.profile};
  auto conclude = [&](std::string result, uint32_t step, std::string reason) -> StatusOr<std::string> {
    v.result = std::move(result);
    v.step = step;
    v.reason = std::move(reason);
    v.end_unix_ms = std::max(started, c.env.clock->NowUnixMillis());
    ASSIGN_OR_RETURN(std::string entry, SignVerdict(*c.env.identity, *c.env.clock, v));
    RETURN_IF_ERROR(c.io.receipt(entry, ""));
    const std::string line = "round " + std::to_string(t.round) + " of " + t.job + " by " + who + ": " + v.result +
                             (v.reason.empty() ? "" : " (" + v.reason + ")");
    c.io.log(line);
    return line;
  };

  // Timestamps, from the log alone: not before the seat was placed or the
  // worker's own previous round ended, not after the coordinator received it.
  const int64_t earliest = std::max(rec.window_ms, rec.previous_end_ms);
  if (rec.start_ms < earliest - kReceiptSkewMs || rec.end_ms > rec.accepted_ms + kReceiptSkewMs) {
    return conclude("fail", 0, "timestamps: the round claims [" + std::to_string(rec.start_ms) + ", " +
                                   std::to_string(rec.end_ms) + "] but could only run within [" + std::to_string(earliest) +
                                   ", " + std::to_string(rec.accepted_ms) + "]");
  }
  if (rec.state_hash.size() != 32 || rec.steps_hash.size() != 32 || rec.update_hash.size() != 32) {
    return conclude("fail", 0, "the receipt commits to nothing a replay can check");
  }
  // The disclosure: the state and step chain it committed to.
  ASSIGN_OR_RETURN(Sha256Digest state_hash, DigestFromBytes(rec.state_hash));
  ASSIGN_OR_RETURN(Sha256Digest steps_hash, DigestFromBytes(rec.steps_hash));
  std::string state, steps;
  while (true) {
    if (c.cancel) return CancelledError("verification cancelled");
    auto st = http.Blob(state_hash);
    auto sp = http.Blob(steps_hash);
    if (st.ok() && sp.ok()) {
      state = std::move(*st);
      steps = std::move(*sp);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return conclude("fail", 0, "did not disclose the state it committed to within " + std::to_string(t.answer_seconds) + " s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (rec.profile != c.env.profile) {
    return conclude("not comparable", 0, "profiles differ: the worker's " + rec.profile.substr(0, 100) + ", this verifier's " +
                                             c.env.profile.substr(0, 100));
  }
  // The replay.
  ASSIGN_OR_RETURN(std::string spec_text, http.JobSpec(t.job));
  if (std::string(DigestView(Sha256(spec_text))) != rec.spec_hash) {
    return InternalError("the coordinator served a spec for " + t.job + " that is not the one submitted");
  }
  ASSIGN_OR_RETURN(jobspec::JobSpec spec, jobspec::ParseJobSpec(spec_text, t.job));
  train::ReplayInput in;
  ASSIGN_OR_RETURN(in.config, train::ConfigFromSpec(spec));
  if (spec.datasets.empty() || rec.datasets.empty()) return InvalidArgumentError(t.job + " names no dataset");
  ASSIGN_OR_RETURN(in.dataset, http.data().GetManifest(HexEncode(rec.datasets[0])));
  if (std::string(DigestView(data::DatasetId(in.dataset))) != rec.datasets[0]) {
    return InternalError("the coordinator served another dataset's manifest for " + t.job);
  }
  if (in.config.model == "torchscript") {
    ASSIGN_OR_RETURN(Sha256Digest module, DigestFromHex(in.config.torchscript_path, "model.torchscript"));
    RETURN_IF_ERROR(http.Blob(module).status());  // verified and cached
    const std::string hex = HexEncode(DigestView(module));
    in.config.torchscript_path = c.env.cache_dir + "/" + hex.substr(0, 2) + "/" + hex;
  }
  in.job_name = spec.name;
  in.world = t.world;
  in.round = t.round;
  in.steps = rec.steps;
  in.rank = rec.rank;
  in.group_world = rec.group;
  in.chain_every = rec.chain_every;
  in.state = std::move(state);
  in.threads = c.env.threads;
  auto replayed = train::ReplayRound(in, http.data());
  if (!replayed.ok()) {
    if (replayed.status().code() == StatusCode::kInvalidArgument) {
      return conclude("fail", 0, "the disclosed state does not load: " + std::string(replayed.status().message()).substr(0, 160));
    }
    return replayed.status();
  }
  const train::ReplayResult& x = *replayed;
  if (Raw(x.fingerprint_before) != rec.fingerprint_before) {
    return conclude("fail", 0, "the disclosed state is not the one the round started from (fingerprintBefore)");
  }
  if (!rec.previous_optimizer.empty() && std::string(DigestView(x.optimizer_before)) != rec.previous_optimizer) {
    return conclude("fail", 0, "the disclosed state does not carry the optimizer state its previous round committed to");
  }
  for (size_t k = 0; k < x.chain.size(); ++k) {
    if (steps.size() < (k + 1) * 32 || steps.compare(k * 32, 32, Raw(x.chain[k])) != 0) {
      const uint32_t step = static_cast<uint32_t>(std::min<uint64_t>((k + 1) * rec.chain_every, rec.steps));
      return conclude("fail", step, "the step chain parts from the replay at step " + std::to_string(step) + " of " +
                                        std::to_string(rec.steps));
    }
  }
  if (steps.size() != x.chain.size() * 32) return conclude("fail", rec.steps, "the step chain is longer than the steps claimed");
  if (std::string(DigestView(x.update_hash)) != rec.update_hash) {
    return conclude("fail", rec.steps + 1, "every step matches, but the update it sent is not the one they give");
  }
  if (std::string(DigestView(x.optimizer_hash)) != rec.optimizer_hash) {
    return conclude("fail", rec.steps + 1, "the optimizer state it committed to is not the one its steps give");
  }
  char took[64];
  std::snprintf(took, sizeof(took), "replayed %u steps in %.2f s, bit for bit", rec.steps, x.seconds);
  return conclude("pass", 0, took);
}

}  // namespace cairn::worker
