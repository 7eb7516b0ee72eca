// Property test of the payout engine: random histories of every entry type,
// with small budgets so escrow runs out, top-ups that reopen exhausted jobs,
// receipts accepted out of order, closes with right and wrong figures, and a
// clock that now and then steps back. A shadow model of the training rules
// predicts whether each entry is accepted and, for every acceptance, the
// exact payments. After every entry: no negative balance, credits conserved,
// no job paid past its budget, a refused entry changed nothing, and a close
// refunded exactly what was left. At the end, replaying the accepted entries
// into a fresh engine gives identical state.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <set>

#include "ledger/payouts.h"
#include "ledger/payouts_internal.h"
#include "ledger/payouts_test_entries.h"

namespace cairn::ledger {
namespace {

using namespace ::cairn::ledger::testing;  // NOLINT

constexpr int kSequences = 300;
constexpr int kSteps = 200;
constexpr int kSignedSequences = 6;  // the first ones are signed and validated
constexpr int kJobIds = 12;

using Key = std::tuple<uint32_t, uint64_t, int>;  // (attempt, round, worker)
struct Seat {
  uint64_t price = 0;
  int64_t since = 0;
  int64_t until = INT64_MAX;  // a later attempt's placement ends it
};
struct Wait {
  uint64_t signed_ms = 0;
  std::map<char, uint64_t> samples;
};
struct ShadowJob {
  int submitter = 0;
  std::string datasets;
  uint64_t cap = 0;
  char parent = 0;
  bool fee_due = false, closed = false;
  std::string outcome;
  std::map<std::pair<uint32_t, int>, Seat> seats;
  std::map<Key, Wait> pending;
  std::set<Key> done;
  uint64_t next_round = 1;
};
struct Counts {
  int accepted = 0, paid_acceptances = 0, exhausted = 0, reopened = 0, closes = 0, refused = 0;
};

class History {
 public:
  History(uint64_t seed, bool sign) : rng_(seed) {
    w_.sign = sign;
    for (int i = 0; i < kJobIds; ++i) ids_.push_back("job-" + std::to_string(i));
  }

  void Run(Counts& counts) {
    std::vector<std::pair<uint64_t, std::string>> log;
    for (int step = 0; step < kSteps; ++step) {
      now_ += static_cast<int64_t>(Pick(3 * kMinute));
      if (Chance(12)) now_ -= static_cast<int64_t>(Pick(10 * kMinute));  // the operator's clock steps back
      step_ = step;
      Next();
      const Snapshot before = Snap(e_, ids_);
      auto funds_before = e_.Funds(job_);
      const uint64_t index = static_cast<uint64_t>(step) * 3 + Pick(3);  // gaps are fine; order is not
      Status s = e_.Apply(index, entry_);
      if (expect_ok_.has_value()) {
        ASSERT_EQ(s.ok(), *expect_ok_) << what_ << " at step " << step << ": " << s;
      }
      if (s.ok()) {
        log.emplace_back(index, entry_);
        ++counts.accepted;
        if (check_) {
          check_(*funds_before, before.earnings.size(), counts);
          ASSERT_FALSE(::testing::Test::HasFailure()) << what_ << " at step " << step;
        }
        if (commit_) commit_();
      } else {
        ++counts.refused;
        ASSERT_TRUE(Snap(e_, ids_) == before) << what_ << " was refused (" << s << ") but changed the engine";
      }
      ASSERT_NO_FATAL_FAILURE(CheckAlways(step));
    }
    PayoutEngine replay(w_.OpKey());
    for (const auto& [index, entry] : log) ASSERT_TRUE(replay.Apply(index, entry).ok());
    ASSERT_TRUE(Snap(replay, ids_) == Snap(e_, ids_));
  }

 private:
  uint64_t Pick(uint64_t n) { return rng_() % n; }
  int Person() { return static_cast<int>(Pick(8)); }
  bool Chance(int one_in) { return Pick(static_cast<uint64_t>(one_in)) == 0; }
  template <typename Map>
  auto Any(Map& m) {
    auto it = m.begin();
    std::advance(it, static_cast<long>(Pick(m.size())));
    return it;
  }
  // For entries that name a job: mostly a submitted job that `fits`, now and then any id, submitted or not.
  void PickJob(const std::function<bool(const ShadowJob&)>& fits) {
    std::vector<std::string> fit;
    for (const auto& [id, j] : jobs_) {
      if (fits(j)) fit.push_back(id);
    }
    if (!fit.empty() && !Chance(10)) {
      job_ = fit[Pick(fit.size())];
    } else {
      job_ = jobs_.empty() || Chance(3) ? ids_[Pick(kJobIds)] : Any(jobs_)->first;
    }
  }
  ShadowJob* Job() { return jobs_.count(job_) ? &jobs_[job_] : nullptr; }

  void CheckAlways(int step) {
    for (const auto& [account, micros] : e_.available()) ASSERT_GE(micros, 0) << "step " << step;
    Status inv = e_.CheckInvariants();
    ASSERT_TRUE(inv.ok()) << "step " << step << ": " << inv;
    for (const std::string& id : ids_) {
      auto f = e_.Funds(id);
      if (f.ok()) {
        ASSERT_LE(f->paid() + f->refunded, f->budget) << id << " at step " << step;
      }
    }
  }

  // Chooses the next entry: entry_, what the shadow predicts (expect_ok_;
  // unset where it does not model the rule), and what to do if accepted.
  void Next() {
    expect_ok_.reset();
    check_ = nullptr;
    commit_ = nullptr;
    job_.clear();
    const uint64_t roll = Pick(100);
    if (step_ < 8 || roll < 5) {  // everyone starts with credits
      what_ = "accountCredited";
      entry_ = Credit(w_, step_ < 8 ? step_ : Person(), 1 + Pick(step_ < 8 ? 3'000'000 : 1'000'000), now_);
    } else if (step_ < 11 || roll < 9) {
      what_ = "datasetRegistered";
      char id = static_cast<char>('A' + Pick(6));
      int owner = Person();
      uint64_t price = Pick(5'000);
      entry_ = Dataset(w_, owner, id, price, now_);
      expect_ok_ = !datasets_.count(id);
      commit_ = [=, this] { datasets_[id] = {owner, price}; };
    } else if (roll < 17) {
      NextSubmit();
    } else if (roll < 20) {
      what_ = "modelRegistered";
      char hash = static_cast<char>('a' + Pick(8));
      char parent = models_.empty() || Chance(2) ? 0 : Any(models_)->first;
      int signer = Person(), author = Chance(2) ? -1 : Person();
      uint64_t fee = Chance(2) ? Pick(150'000) : 0;
      entry_ = Model(w_, signer, hash, "", parent, author, fee);
      commit_ = [=, this] { models_[hash] = {author < 0 ? signer : author, fee}; };
    } else if (roll < 32) {
      NextPlace();
    } else if (roll < 52) {
      NextReceipt();
    } else if (roll < 74) {
      NextAccept();
    } else if (roll < 81) {
      NextTopUp();
    } else if (roll < 88) {
      NextClose();
    } else if (roll < 95) {
      what_ = "inferenceUsage";
      uint64_t charge = Pick(500'000);
      entry_ = Usage(w_, models_.empty() ? 'z' : Any(models_)->first, Person(), Person(), charge,
                     charge == 0 ? 0 : Pick(charge));
    } else {
      what_ = "settlement";
      entry_ = Settle(w_, Person(), 1 + Pick(500'000));
    }
  }

  void NextSubmit() {
    what_ = "jobSubmitted";
    job_ = ids_[Pick(kJobIds)];
    ShadowJob j;
    j.submitter = Person();
    for (const auto& [id, ds] : datasets_) {
      if (Chance(2)) j.datasets += id;
    }
    if (Chance(12)) j.datasets += 'Z';  // never registered
    j.cap = Chance(2) ? 0 : 500'000 + Pick(4'000'000);
    if (!models_.empty() && Chance(3)) j.parent = Chance(8) ? 'y' : Any(models_)->first;
    const uint64_t budget = Chance(3) ? Pick(2'000'000) : Pick(300'000);  // mostly small: escrow runs out
    entry_ = Submit(w_, j.submitter, job_, budget, {j.datasets, j.cap, j.parent}, now_);
    bool ok = !jobs_.count(job_) && e_.Available(w_.Key(j.submitter)) >= static_cast<int64_t>(budget);
    for (char d : j.datasets) ok = ok && datasets_.count(d);
    if (j.parent != 0) ok = ok && models_.count(j.parent) && budget >= models_.at(j.parent).second;
    expect_ok_ = ok;
    const std::string id = job_;
    commit_ = [this, j, id] {
      jobs_[id] = j;
      auto m = models_.find(j.parent);
      jobs_[id].fee_due = m != models_.end() && m->second.second > 0;
    };
  }

  void NextPlace() {
    what_ = "jobPlaced";
    PickJob([](const ShadowJob& j) { return !j.closed; });
    ShadowJob* j = Job();
    uint32_t attempt = static_cast<uint32_t>(Pick(3));
    int again = -1;  // now and then a seat placed before, placed again
    if (j && !j->seats.empty() && Chance(3)) std::tie(attempt, again) = Any(j->seats)->first;
    const uint64_t top = j && j->cap > 0 ? j->cap + j->cap / 10 : 6'000'000;  // now and then over the cap
    std::vector<std::pair<int, uint64_t>> workers;
    for (uint64_t n = 1 + Pick(3); n > 0; --n) workers.push_back({again >= 0 ? again : Person(), Pick(top)});
    entry_ = Place(w_, job_, attempt, workers, now_);
    bool ok = j && !j->closed;
    for (const auto& [worker, price] : workers) ok = ok && (j->cap == 0 || price <= j->cap);
    expect_ok_ = ok;
    commit_ = [this, j, attempt, workers, t = now_] {
      for (auto& [seat, s] : j->seats) {
        if (std::get<0>(seat) < attempt) s.until = std::min(s.until, t);
      }
      for (const auto& [worker, price] : workers) {
        auto [seat, fresh] = j->seats.try_emplace({attempt, worker}, Seat{price, t});
        seat->second.price = price;
        if (!fresh) seat->second.since = std::max(seat->second.since, t);
      }
    };
  }

  void NextReceipt() {
    what_ = "stepReceipt";
    PickJob([](const ShadowJob& j) { return !j.closed && !j.seats.empty(); });
    ShadowJob* j = Job();
    uint32_t attempt = static_cast<uint32_t>(Pick(3));
    int worker = Person();
    if (j && !j->seats.empty() && !Chance(8)) std::tie(attempt, worker) = Any(j->seats)->first;
    uint64_t round = j && !Chance(10) ? j->next_round++ : 1 + Pick(4);
    Wait wait;
    wait.signed_ms = Chance(10) ? 1 + Pick(1'000'000'000) : Pick(20 * kMinute);  // now and then inflated
    std::vector<std::pair<char, uint64_t>> consumed;
    for (uint64_t n = j && j->datasets.empty() ? Chance(10) : Pick(3); n > 0; --n) {
      char d = j && !j->datasets.empty() && !Chance(10) ? j->datasets[Pick(j->datasets.size())]
                                                        : static_cast<char>('A' + Pick(6));
      consumed.push_back({d, Pick(200'000)});
      wait.samples[d] += consumed.back().second;
    }
    entry_ = Receipt(w_, worker, job_, attempt, round, now_ - static_cast<int64_t>(wait.signed_ms), now_, consumed);
    const Key key{attempt, round, worker};
    bool ok = j && !j->closed && j->seats.count({attempt, worker}) && !j->pending.count(key) && !j->done.count(key);
    for (const auto& [d, n] : consumed) ok = ok && j->datasets.find(d) != std::string::npos;
    expect_ok_ = ok;
    commit_ = [j, key, wait] { j->pending[key] = wait; };
  }

  void NextAccept() {
    what_ = "receiptAccepted";
    PickJob([](const ShadowJob& j) { return !j.closed && !j.pending.empty(); });
    ShadowJob* j = Job();
    Key key{static_cast<uint32_t>(Pick(3)), 1 + Pick(4), Person()};
    if (j && !j->pending.empty() && !Chance(8)) key = Any(j->pending)->first;
    const bool by_operator = !Chance(25);
    entry_ = Accept(w_, job_, std::get<0>(key), std::get<1>(key), std::get<2>(key), now_, by_operator ? -1 : Person());
    expect_ok_ = by_operator && j && !j->closed && j->pending.count(key);
    if (!*expect_ok_) return;
    // The payments the rules prescribe, in order, each capped by the escrow.
    check_ = [this, j, key, t = now_](const JobFunds& f0, size_t earnings_before, Counts& counts) {
      const Wait& wait = j->pending.at(key);
      const Seat& seat = j->seats.at({std::get<0>(key), std::get<2>(key)});
      uint64_t escrow = f0.escrow();
      std::vector<std::tuple<std::string, uint64_t, std::string>> want;
      auto pay = [&](const std::string& account, uint64_t owed, const char* reason) {
        uint64_t part = std::min(escrow, owed);
        escrow -= part;
        if (part > 0) want.emplace_back(Short(account), part, reason);
      };
      if (j->fee_due) pay(w_.Key(models_.at(j->parent).first), models_.at(j->parent).second, "finetune fee");
      const int64_t end = std::min(t, seat.until);
      const uint64_t observed = end > seat.since ? static_cast<uint64_t>(end - seat.since) : 0;
      pay(w_.Key(std::get<2>(key)), MulDiv(std::min(wait.signed_ms, observed), seat.price, 3'600'000), "compute");
      for (const auto& [d, n] : wait.samples) {
        pay(w_.Key(datasets_.at(d).first), MulDiv(n, datasets_.at(d).second, 1000), "data");
      }
      std::vector<std::tuple<std::string, uint64_t, std::string>> got;
      for (size_t i = earnings_before; i < e_.earnings().size(); ++i) {
        const Earning& x = e_.earnings()[i];
        EXPECT_EQ(x.job, job_);
        got.emplace_back(Short(x.account), x.micros, x.reason);
      }
      EXPECT_EQ(got, want) << "job " << job_;
      EXPECT_EQ(e_.Funds(job_)->escrow(), escrow);
      counts.paid_acceptances += !want.empty();
    };
    commit_ = [j, key, t = now_] {
      Seat& seat = j->seats.at({std::get<0>(key), std::get<2>(key)});
      seat.since = std::max(seat.since, t);
      j->fee_due = false;
      j->pending.erase(key);
      j->done.insert(key);
    };
  }

  void NextTopUp() {
    what_ = "jobToppedUp";
    PickJob([](const ShadowJob& j) { return !j.closed || j.outcome == "budget exhausted"; });
    ShadowJob* j = Job();
    const int who = j && !Chance(6) ? j->submitter : Person();
    const uint64_t amount = 1 + Pick(300'000);
    entry_ = TopUp(w_, who, job_, amount, now_);
    if (!j || who != j->submitter || (j->closed && j->outcome != "budget exhausted")) {
      expect_ok_ = false;
      return;
    }
    expect_ok_ = e_.Available(w_.Key(who)) >= static_cast<int64_t>(amount);
    check_ = [this, j, amount](const JobFunds& f0, size_t, Counts& counts) {
      EXPECT_EQ(e_.Funds(job_)->budget, f0.budget + amount);
      EXPECT_FALSE(e_.Funds(job_)->closed);
      counts.reopened += j->closed;
    };
    commit_ = [j] { j->closed = false; };
  }

  void NextClose() {
    what_ = "jobClosed";
    PickJob([](const ShadowJob& j) { return !j.closed; });
    ShadowJob* j = Job();
    auto f = e_.Funds(job_);
    Figures figures = f.ok() ? FiguresOf(*f) : Figures{};
    const bool wrong = Chance(6);
    if (wrong) {
      uint64_t* fields[] = {&figures.budget, &figures.compute, &figures.data, &figures.fee, &figures.refund};
      *fields[Pick(5)] += 1;
    }
    const bool by_operator = !Chance(25);
    const bool exhausted = f.ok() && (f->escrow() < 50'000 || Chance(3));
    const char* outcomes[] = {"succeeded", "failed", "cancelled"};
    const std::string outcome = exhausted ? "budget exhausted" : outcomes[Pick(3)];
    entry_ = Close(w_, job_, outcome, figures, now_, by_operator ? -1 : Person());
    expect_ok_ = j && !j->closed && !wrong && by_operator;
    if (!*expect_ok_) return;
    check_ = [this, outcome](const JobFunds& f0, size_t, Counts& counts) {
      const JobFunds f1 = e_.Funds(job_).value();
      EXPECT_EQ(f1.refunded - f0.refunded, f0.budget - f0.paid() - f0.refunded);  // all that was left
      EXPECT_EQ(f1.paid(), f0.paid());
      EXPECT_EQ(f1.escrow(), 0u);
      EXPECT_TRUE(f1.closed);
      ++counts.closes;
      counts.exhausted += outcome == "budget exhausted";
    };
    commit_ = [j, outcome] {
      j->closed = true;
      j->outcome = outcome;
      j->pending.clear();
      j->seats.clear();  // a reopened job is placed anew
    };
  }

  World w_;
  PayoutEngine e_{w_.OpKey()};
  std::mt19937_64 rng_;
  int64_t now_ = kT0;
  int step_ = 0;
  std::vector<std::string> ids_;
  std::map<std::string, ShadowJob> jobs_;
  std::map<char, std::pair<int, uint64_t>> datasets_;  // owner, price per 1k
  std::map<char, std::pair<int, uint64_t>> models_;    // author, fine-tuning fee
  // The entry being applied.
  std::string entry_, what_, job_;
  std::optional<bool> expect_ok_;
  std::function<void(const JobFunds&, size_t, Counts&)> check_;
  std::function<void()> commit_;
};

TEST(PayoutsProperty, RandomHistoriesConserveCreditsAndReplayIdentically) {
  const auto start = std::chrono::steady_clock::now();
  Counts counts;
  for (int seed = 1; seed <= kSequences; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    History h(static_cast<uint64_t>(seed), seed <= kSignedSequences);
    ASSERT_NO_FATAL_FAILURE(h.Run(counts));
    if (HasFailure()) return;
  }
  // The histories exercised what they are for.
  EXPECT_GT(counts.paid_acceptances, 4 * kSequences);
  EXPECT_GT(counts.exhausted, kSequences);
  EXPECT_GT(counts.reopened, kSequences / 4);
  EXPECT_GT(counts.closes, 2 * kSequences);
  EXPECT_GT(counts.refused, 10 * kSequences);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "%d histories of %d entries in %.2f s: %d accepted (%d paying acceptances, %d closes, %d as budget "
      "exhausted, %d reopened), %d refused\n",
      kSequences, kSteps, seconds, counts.accepted, counts.paid_acceptances, counts.closes, counts.exhausted,
      counts.reopened, counts.refused);
}

}  // namespace
}  // namespace cairn::ledger
