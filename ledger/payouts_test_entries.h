// Entry builders and state snapshots for the payout engine's tests
// (ledger/payouts_test.cc, ledger/payouts_property_test.cc). Test-only.
#ifndef CAIRN_LEDGER_PAYOUTS_TEST_ENTRIES_H_
#define CAIRN_LEDGER_PAYOUTS_TEST_ENTRIES_H_

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "ledger/payouts.h"

namespace cairn::ledger::testing {

using Builder = schema::LedgerEntry::Body::Builder;

inline constexpr int64_t kT0 = 1'764'000'000'000;  // a realistic Unix time in ms
inline constexpr int64_t kSecond = 1000;
inline constexpr int64_t kMinute = 60 * kSecond;

struct World {
  Ed25519PrivateKey op = Ed25519PrivateKey::Generate().value();
  std::vector<Ed25519PrivateKey> people;
  std::vector<std::string> keys;
  // Unsigned entries (a zero signature) build a thousand times faster. The
  // engine reads entries it is told are validated and checks no signature,
  // so they apply exactly as signed ones; the property test signs some of
  // its sequences to keep the generator honest.
  bool sign = true;
  World() {
    for (int i = 0; i < 8; ++i) {
      people.push_back(Ed25519PrivateKey::Generate().value());
      keys.push_back(people.back().public_key().bytes());
    }
  }
  const std::string& Key(int i) const { return keys[i]; }
  std::string OpKey() const { return op.public_key().bytes(); }
};

inline std::string Make(const World& w, const Ed25519PrivateKey& k, int64_t ts, const BodyFiller& f) {
  if (w.sign) {
    auto e = MakeEntry(k, ts, f);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? *e : std::string();
  }
  capnp::MallocMessageBuilder b;
  auto root = b.initRoot<schema::LedgerEntry>();
  root.setVersion(kEntryVersion);
  root.setTimestampUnixMillis(ts);
  root.setActor(AsData(k.public_key().bytes()));
  f(root.initBody());
  root.setSignature(AsData(std::string(64, '\0')));
  kj::Array<capnp::word> canonical = capnp::canonicalize(root.asReader());
  return std::string(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
}
inline std::string Id32(char c) { return std::string(32, c); }

inline std::string Credit(const World& w, int who, uint64_t micros, int64_t ts = kT0) {
  return Make(w, w.op, ts, [&](Builder b) {
    auto c = b.initAccountCredited();
    c.setAccount(AsData(w.Key(who)));
    c.setAmountMicros(micros);
  });
}
inline std::string Dataset(const World& w, int owner, char id, uint64_t price_per_1k, int64_t ts = kT0) {
  return Make(w, w.people[owner], ts, [&](Builder b) {
    auto d = b.initDatasetRegistered();
    d.setDatasetId(AsData(Id32(id)));
    d.setName(std::string("ds-") + id);
    d.setChunks(1);
    d.setLicense("MIT");
    d.setPricePer1kSamplesMicros(price_per_1k);
  });
}
struct JobTerms {
  JobTerms(std::string d = "", uint64_t cap = 0, char p = 0) : datasets(std::move(d)), max_price_per_hour(cap), parent(p) {}
  std::string datasets;  // one char per dataset id
  uint64_t max_price_per_hour = 0;
  char parent = 0;  // a fine-tune's parent model; 0: none
  VerifyPolicy verify;  // replays (all 0: none)
};
inline std::string Submit(const World& w, int who, const std::string& job, uint64_t budget, const JobTerms& t = {},
                          int64_t ts = kT0) {
  return Make(w, w.people[who], ts, [&](Builder b) {
    auto j = b.initJobSubmitted();
    j.setJobId(job);
    j.setSpecHash(AsData(Id32('s')));
    auto ds = j.initDatasets(static_cast<unsigned>(t.datasets.size()));
    for (unsigned i = 0; i < t.datasets.size(); ++i) ds.set(i, AsData(Id32(t.datasets[i])));
    j.setBudgetMicros(budget);
    j.setMaxPricePerHourMicros(t.max_price_per_hour);
    if (t.parent != 0) j.setParentModel(AsData(Id32(t.parent)));
    j.setReplayPpm(t.verify.replay_ppm);
    j.setProbationRounds(t.verify.probation);
    j.setHoldRounds(t.verify.hold);
  });
}
// (worker, price per hour) placements on one attempt, signed by the operator at `ts`.
inline std::string Place(const World& w, const std::string& job, uint32_t attempt,
                         const std::vector<std::pair<int, uint64_t>>& workers, int64_t ts) {
  return Make(w, w.op, ts, [&](Builder b) {
    auto p = b.initJobPlaced();
    p.setJobId(job);
    p.setAttempt(attempt);
    auto ws = p.initWorkers(static_cast<unsigned>(workers.size()));
    for (unsigned i = 0; i < workers.size(); ++i) {
      ws[i].setWorker(AsData(w.Key(workers[i].first)));
      ws[i].setRank(i);
      ws[i].setPricePerHourMicros(workers[i].second);
    }
  });
}
// A receipt for `round` of `attempt`, signed by `worker` for [start, end]
// (signed at `end`), consuming (dataset, samples) pairs.
inline std::string Receipt(const World& w, int worker, const std::string& job, uint32_t attempt, uint64_t round,
                           int64_t start, int64_t end, const std::vector<std::pair<char, uint64_t>>& consumed) {
  return Make(w, w.people[worker], end, [&](Builder b) {
    auto r = b.initStepReceipt();
    r.setJobId(job);
    r.setAttempt(attempt);
    r.setRound(round);
    r.setSteps(10);
    r.setStartUnixMillis(start);
    r.setEndUnixMillis(end);
    auto c = r.initConsumed(static_cast<unsigned>(consumed.size()));
    for (unsigned i = 0; i < consumed.size(); ++i) {
      c[i].setDatasetId(AsData(Id32(consumed[i].first)));
      c[i].setSamples(consumed[i].second);
    }
    r.setFingerprintBefore(AsData(Id32('a')));
    r.setFingerprintAfter(AsData(Id32('b')));
  });
}
// receiptAccepted, signed by the operator (or by `signer` when >= 0) at `ts`.
inline std::string Accept(const World& w, const std::string& job, uint32_t attempt, uint64_t round, int worker,
                          int64_t ts, int signer = -1) {
  return Make(w, signer < 0 ? w.op : w.people[signer], ts, [&](Builder b) {
    auto a = b.initReceiptAccepted();
    a.setJobId(job);
    a.setAttempt(attempt);
    a.setRound(round);
    a.setWorker(AsData(w.Key(worker)));
  });
}
inline std::string TopUp(const World& w, int who, const std::string& job, uint64_t micros, int64_t ts = kT0) {
  return Make(w, w.people[who], ts, [&](Builder b) {
    auto t = b.initJobToppedUp();
    t.setJobId(job);
    t.setAmountMicros(micros);
  });
}
struct Figures {
  uint64_t budget = 0, compute = 0, data = 0, fee = 0, refund = 0, verify = 0, forfeit = 0;
};
inline Figures FiguresOf(const JobFunds& f) {
  return {f.budget, f.compute, f.data, f.fee, f.escrow(), f.verify, f.forfeited};
}
inline std::string Close(const World& w, const std::string& job, const std::string& outcome, const Figures& f,
                         int64_t ts, int signer = -1) {
  return Make(w, signer < 0 ? w.op : w.people[signer], ts, [&](Builder b) {
    auto c = b.initJobClosed();
    c.setJobId(job);
    c.setOutcome(outcome);
    c.setBudgetMicros(f.budget);
    c.setComputeMicros(f.compute);
    c.setDataMicros(f.data);
    c.setFeeMicros(f.fee);
    c.setRefundMicros(f.refund);
    c.setVerifyMicros(f.verify);
    c.setForfeitMicros(f.forfeit);
  });
}
// roundAudited by the operator: (worker, flags) rows.
inline std::string Audit(const World& w, const std::string& job, uint32_t attempt, uint64_t round,
                         const std::vector<std::pair<int, uint32_t>>& rows, int64_t ts, int signer = -1) {
  return Make(w, signer < 0 ? w.op : w.people[signer], ts, [&](Builder b) {
    auto a = b.initRoundAudited();
    a.setJobId(job);
    a.setAttempt(attempt);
    a.setRound(round);
    auto rs = a.initRows(static_cast<unsigned>(rows.size()));
    for (unsigned i = 0; i < rows.size(); ++i) {
      rs[i].setWorker(AsData(w.Key(rows[i].first)));
      rs[i].setFlags(rows[i].second);
    }
  });
}
inline std::string AssignVerifier(const World& w, const std::string& job, uint32_t attempt, uint64_t round, int worker,
                                  int verifier, uint64_t price_per_hour, int64_t ts) {
  return Make(w, w.op, ts, [&](Builder b) {
    auto a = b.initVerifierAssigned();
    a.setJobId(job);
    a.setAttempt(attempt);
    a.setRound(round);
    a.setWorker(AsData(w.Key(worker)));
    a.setVerifier(AsData(w.Key(verifier)));
    a.setPricePerHourMicros(price_per_hour);
    a.setTask("verify-" + job);
    a.setTaskAttempt(1);
  });
}
// A verdict signed by `signer` (-1: the operator), replaying [start, end].
inline std::string VerdictOf(const World& w, const std::string& job, uint32_t attempt, uint64_t round, int worker,
                             const std::string& result, int signer, int64_t start, int64_t end) {
  return Make(w, signer < 0 ? w.op : w.people[signer], end, [&](Builder b) {
    auto v = b.initVerdict();
    v.setJobId(job);
    v.setAttempt(attempt);
    v.setRound(round);
    v.setWorker(AsData(w.Key(worker)));
    v.setResult(result);
    v.setStep(result == "fail" ? 3 : 0);
    v.setReplayStartUnixMillis(start);
    v.setReplayEndUnixMillis(end);
  });
}
// Registered by `signer`; `author` >= 0 names the author in the entry.
inline std::string Model(const World& w, int signer, char hash, const std::string& job, char parent = 0,
                         int author = -1, uint64_t finetune_fee = 0) {
  return Make(w, w.people[signer], kT0, [&](Builder b) {
    auto m = b.initModelRegistered();
    m.setName(std::string("model-") + hash);
    m.setModelHash(AsData(Id32(hash)));
    if (parent != 0) m.setParentModel(AsData(Id32(parent)));
    m.setJobId(job);
    m.setLicense("MIT");
    if (author >= 0) m.setAuthor(AsData(w.Key(author)));
    m.setFinetuneFeeMicros(finetune_fee);
  });
}
inline std::string Usage(const World& w, char model, int consumer, int worker, uint64_t charge, uint64_t worker_part) {
  return Make(w, w.op, kT0, [&](Builder b) {
    auto u = b.initInferenceUsage();
    u.setModel(AsData(Id32(model)));
    u.setConsumer(AsData(w.Key(consumer)));
    u.setWorker(AsData(w.Key(worker)));
    u.setRequests(1);
    u.setChargeMicros(charge);
    u.setWorkerMicros(worker_part);
  });
}
inline std::string Settle(const World& w, int who, uint64_t micros) {
  return Make(w, w.op, kT0, [&](Builder b) {
    auto s = b.initSettlement();
    s.setAccount(AsData(w.Key(who)));
    s.setAmountMicros(micros);
  });
}

// Everything a refused entry must leave as it was.
inline auto FundsTuple(const JobFunds& f) {
  return std::make_tuple(f.submitter, f.budget, f.compute, f.data, f.fee, f.refunded, f.max_round, f.closed, f.outcome,
                         f.verify, f.forfeited, f.held);
}
inline auto EarningTuple(const Earning& e) {
  return std::make_tuple(e.entry_index, e.account, e.micros, e.reason, e.job);
}
struct Snapshot {
  std::map<std::string, int64_t> available;
  std::map<std::string, decltype(FundsTuple(JobFunds{}))> funds;
  std::vector<decltype(EarningTuple(Earning{}))> earnings;
  uint64_t credited = 0, settled = 0, escrow = 0;
  bool operator==(const Snapshot& o) const {
    return std::tie(available, funds, earnings, credited, settled, escrow) ==
           std::tie(o.available, o.funds, o.earnings, o.credited, o.settled, o.escrow);
  }
};
inline Snapshot Snap(const PayoutEngine& e, const std::vector<std::string>& jobs) {
  Snapshot s;
  s.available = e.available();
  for (const std::string& j : jobs) {
    auto f = e.Funds(j);
    if (f.ok()) s.funds[j] = FundsTuple(*f);
  }
  for (const Earning& x : e.earnings()) s.earnings.push_back(EarningTuple(x));
  s.credited = e.total_credited();
  s.settled = e.total_settled();
  s.escrow = e.total_escrow();
  return s;
}

}  // namespace cairn::ledger::testing

#endif  // CAIRN_LEDGER_PAYOUTS_TEST_ENTRIES_H_
