// Replays of real training rounds (docs/verification.md): an honest round
// replays bit for bit from the state it committed to, each misbehaviour
// shows where it parts from the replay, and a process without a seat
// ticket never joins a group. Real LibTorch, real Gloo over a real TCPStore.
#include <gtest/gtest.h>

#include "runtime/crypto/sha256.h"
#include "train/membership.h"
#include "train/seat.h"
#include "train/train_state.h"
#include "train/train_test_support.h"
#include "train/trainer.h"

namespace cairn::train {
namespace {

using testing::StartStore;

class Replay : public testing::TrainingFixture {
 protected:
  TrainTask Mlp(int64_t steps, int64_t per_round) {
    TrainTask t = Task("mlp", steps);
    t.config.round_steps = per_round;
    t.config.inner_steps = per_round;
    t.config.chain_every = 5;
    t.config.hidden = {64};
    return t;
  }
  ReplayResult ReplayOf(const TrainTask& t, const RoundReport& r, uint32_t world = 1) {
    data::DataClient client("127.0.0.1", plane().port(), cache_.path());
    ReplayInput in;
    in.config = t.config;
    in.dataset = t.dataset;
    in.job_name = t.job_name;
    in.world = world;
    in.round = r.round;
    in.steps = r.steps;
    in.rank = r.rank;
    in.group_world = static_cast<uint32_t>(r.group.size());
    in.chain_every = r.chain_every;
    in.state = r.state_bytes;
    in.threads = 1;
    auto out = ReplayRound(in, client);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : ReplayResult{};
  }
  static std::string Blob(const std::vector<kernels::Digest256>& chain) {
    std::string b;
    for (const auto& fp : chain) b.append(reinterpret_cast<const char*>(fp.data()), fp.size());
    return b;
  }
  // Index of the first link where the chains differ (size if none).
  static size_t FirstDiverging(const std::string& a, const std::string& b) {
    size_t i = 0;
    while (i * 32 < a.size() && i * 32 < b.size() && a.compare(i * 32, 32, b, i * 32, 32) == 0) ++i;
    return i;
  }
};

TEST_F(Replay, HonestSingleRoundsReplayBitForBit) {
  TrainTask t = Mlp(60, 20);
  std::vector<RoundReport> reports;
  ASSERT_TRUE(Run(t, &reports).ok());
  ASSERT_EQ(reports.size(), 3u);
  for (size_t i = 0; i < reports.size(); ++i) {
    const RoundReport& r = reports[i];
    EXPECT_EQ(r.state_hash, Sha256(r.state_bytes));
    EXPECT_EQ(r.steps_blob.size(), 4u * 32) << "a link every 5 of 20 steps";
    const ReplayResult x = ReplayOf(t, r);
    EXPECT_EQ(x.fingerprint_before, r.fingerprint_before);
    EXPECT_EQ(Blob(x.chain), r.steps_blob) << "round " << r.round;
    EXPECT_EQ(x.update_hash, r.update_hash);
    EXPECT_EQ(x.optimizer_hash, r.optimizer_hash);
    // The state a round starts from carries the optimizer the round before committed to.
    if (i > 0) {
      EXPECT_EQ(x.optimizer_before, reports[i - 1].optimizer_hash);
    }
  }
}

TEST_F(Replay, EveryMisbehaviourPartsFromTheReplay) {
  struct Case {
    Misbehave mode;
    bool chain_differs;  // else only the update
  };
  const Case cases[] = {{Misbehave::kSkip, true},    {Misbehave::kLazy, true},     {Misbehave::kWrongData, true},
                        {Misbehave::kRandom, false}, {Misbehave::kScaled, false},  {Misbehave::kSignFlip, false},
                        {Misbehave::kStale, false}};  // copy needs a peer: the multi-rank test below
  for (const Case& c : cases) {
    TrainTask t = Mlp(40, 20);
    t.config.strategy = jobspec::Strategy::kDiloco;
    t.config.compress_int8 = true;
    data::DataClient client("127.0.0.1", plane().port(), cache_.path());
    TrainHooks h;
    h.threads = 1;
    h.misbehave = c.mode;
    std::vector<RoundReport> reports;
    h.on_round = [&](const RoundReport& r) {
      reports.push_back(r);
      return OkStatus();
    };
    ASSERT_TRUE(RunTraining(t, client, h).ok()) << MisbehaveName(c.mode);
    ASSERT_EQ(reports.size(), 2u);
    // Stale and copy replay the round before's update: the second round shows it.
    const RoundReport& r = (c.mode == Misbehave::kStale || c.mode == Misbehave::kCopy) ? reports[1] : reports[0];
    const ReplayResult x = ReplayOf(t, r);
    const size_t at = FirstDiverging(Blob(x.chain), r.steps_blob);
    if (c.chain_differs) {
      EXPECT_LT(at, x.chain.size()) << MisbehaveName(c.mode) << ": the step chain should part";
      EXPECT_EQ(at, c.mode == Misbehave::kLazy ? 2u : 0u) << "lazy is honest for 10 of 20 steps: links 5 and 10 match";
    } else {
      EXPECT_EQ(at, x.chain.size()) << MisbehaveName(c.mode) << ": the steps were honest";
      EXPECT_NE(x.update_hash, r.update_hash) << MisbehaveName(c.mode) << ": the update should differ";
    }
  }
}

TEST_F(Replay, EachDilocoRankReplaysItsOwnUpdateAndOutsidersNeverJoin) {
  // Three placed workers with tickets, sealed updates, trimmed mean; an
  // intruder that knows the secret but holds no ticket registers as a joiner.
  // Rank 2 copies a peer's update (the round before's): its own replay parts.
  TrainTask t = Mlp(60, 20);
  t.config.strategy = jobspec::Strategy::kDiloco;
  t.config.compress_int8 = true;
  t.config.aggregate = Aggregate::kTrimmedMean;
  t.secret = "s3cret";
  const auto op = Ed25519PrivateKey::Generate().value();
  t.operator_key = op.public_key().bytes();
  std::vector<Ed25519PrivateKey> keys;
  for (int r = 0; r < 3; ++r) keys.push_back(Ed25519PrivateKey::Generate().value());
  std::vector<std::vector<RoundReport>> reports(3);
  std::thread intruder;
  auto out = testing::RunRanks(
      plane(), t, 3,
      [&](int r, TrainHooks& h) {
        h.on_round = [&reports, r](const RoundReport& rep) {
          reports[r].push_back(rep);
          return OkStatus();
        };
        if (r == 2) h.misbehave = Misbehave::kCopy;
      },
      [&](int r, TrainTask& mine) {
        mine.identity = &keys[r];
        mine.seat_ticket = SignSeat(op, t.job_id, t.attempt, static_cast<uint32_t>(r), keys[r].public_key().bytes()).value();
        if (r == 0) {
          // The intruder: the right prefix, and a ticket it signed itself.
          intruder = std::thread([&t, port = mine.store_port] {
            const auto thief = Ed25519PrivateKey::Generate().value();
            SeatAuth fake{t.operator_key, t.job_id, t.attempt, thief.public_key().bytes(),
                          SignSeat(thief, t.job_id, t.attempt, 9, thief.public_key().bytes()).value()};
            auto m = Membership::Connect("127.0.0.1", port, t.job_id + "/0/" + t.secret, 9, 3, "127.0.0.1", true, &fake);
            if (!m.ok()) return;
            for (uint64_t round = 1; round <= 3; ++round) {
              auto g = m->Join(round, 0, std::chrono::milliseconds(1));
              EXPECT_FALSE(g.ok()) << "an unticketed process joined round " << round;
            }
          });
        }
      });
  intruder.join();
  for (int r = 0; r < 3; ++r) ASSERT_TRUE(out[r].ok()) << out[r].status();
  EXPECT_EQ(out[0]->fingerprint, out[2]->fingerprint);
  for (int r = 0; r < 3; ++r) {
    ASSERT_EQ(reports[r].size(), 3u);
    for (const RoundReport& rep : reports[r]) {
      EXPECT_EQ(rep.group, (std::vector<uint32_t>{0, 1, 2})) << "the intruder (uid 9) is never a member";
      EXPECT_EQ(rep.update_hash, Sha256(rep.update));
      const ReplayResult x = ReplayOf(t, rep, 3);
      if (r == 2 && rep.round > 1) {
        EXPECT_NE(x.update_hash, rep.update_hash) << "the copier's update is not what its steps give";
        EXPECT_EQ(rep.update, reports[0][rep.round - 2].update) << "it sent rank 0's update of the round before";
      } else {
        EXPECT_EQ(x.update_hash, rep.update_hash) << "rank " << r << " round " << rep.round;
      }
      EXPECT_EQ(Blob(x.chain), rep.steps_blob);
      EXPECT_EQ(x.optimizer_hash, rep.optimizer_hash);
    }
  }
}

TEST_F(Replay, CanonicalStateRefusesMalformedBytes) {
  TrainTask t = Mlp(20, 20);
  std::vector<RoundReport> reports;
  ASSERT_TRUE(Run(t, &reports).ok());
  const std::string good = reports.at(0).state_bytes;
  auto replay = [&](const std::string& state) {
    data::DataClient client("127.0.0.1", plane().port(), cache_.path());
    ReplayInput in;
    in.config = t.config;
    in.dataset = t.dataset;
    in.job_name = t.job_name;
    in.round = 1;
    in.steps = 20;
    in.chain_every = 5;
    in.state = state;
    return ReplayRound(in, client).status();
  };
  EXPECT_TRUE(replay(good).ok());
  EXPECT_EQ(replay("").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(replay("XST2" + good.substr(4)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(replay(good.substr(0, 4) + "\x03" + good.substr(5)).code(), StatusCode::kInvalidArgument) << "other parts";
  EXPECT_EQ(replay(good.substr(0, good.size() - 1)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(replay(good + "x").code(), StatusCode::kInvalidArgument);
  for (size_t cut : {size_t{10}, size_t{24}, good.size() / 2}) {
    EXPECT_EQ(replay(good.substr(0, cut)).code(), StatusCode::kInvalidArgument) << cut;
  }
}

}  // namespace
}  // namespace cairn::train
