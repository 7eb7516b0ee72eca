// Seat tickets, rendezvous secrets and sealed updates (train/seat.h).
#include "train/seat.h"

#include <gtest/gtest.h>

namespace cairn::train {
namespace {

TEST(Seat, TicketsBindJobAttemptUidAndKey) {
  const auto op = Ed25519PrivateKey::Generate().value();
  const auto worker = Ed25519PrivateKey::Generate().value();
  const std::string k = worker.public_key().bytes(), opk = op.public_key().bytes();
  const std::string t = SignSeat(op, "job-1", 2, 1, k).value();
  EXPECT_TRUE(VerifySeat(opk, "job-1", 2, 1, k, t).ok());
  EXPECT_EQ(VerifySeat(opk, "job-2", 2, 1, k, t).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySeat(opk, "job-1", 3, 1, k, t).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySeat(opk, "job-1", 2, 0, k, t).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySeat(opk, "job-1", 2, 1, opk, t).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySeat(k, "job-1", 2, 1, k, SignSeat(worker, "job-1", 2, 1, k).value()).ok(), true)
      << "a self-signed ticket verifies only under its own key, never the operator's";
  EXPECT_EQ(VerifySeat(opk, "job-1", 2, 1, k, SignSeat(worker, "job-1", 2, 1, k).value()).code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySeat(opk, "job-1", 2, 1, k, "short").code(), StatusCode::kUnauthenticated);
}

TEST(Seat, SecretsAreStablePerAttemptAndUnguessable) {
  const auto op = Ed25519PrivateKey::Generate().value();
  const std::string a = RendezvousSecret(op, "job-1", 1).value();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, RendezvousSecret(op, "job-1", 1).value()) << "the coordinator re-derives it after a restart";
  EXPECT_NE(a, RendezvousSecret(op, "job-1", 2).value());
  EXPECT_NE(a, RendezvousSecret(Ed25519PrivateKey::Generate().value(), "job-1", 1).value());
}

TEST(Seat, SealedUpdatesOpenOnlyUnderTheSendersKeyForTheirRound) {
  const auto w = Ed25519PrivateKey::Generate().value();
  const std::string key = w.public_key().bytes();
  const std::string payload(1000, '\x07');
  const std::string sealed = SealUpdate(w, "job-1", 0, 5, 2, payload).value();
  ASSERT_EQ(sealed.size(), kSealHeaderBytes + payload.size());
  auto opened = OpenUpdate(sealed, "job-1", 0, 5, 2, key);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, payload);
  EXPECT_EQ(OpenUpdate(sealed, "job-1", 0, 6, 2, key).status().code(), StatusCode::kUnauthenticated) << "another round";
  EXPECT_EQ(OpenUpdate(sealed, "job-1", 0, 5, 3, key).status().code(), StatusCode::kUnauthenticated) << "another sender";
  EXPECT_EQ(OpenUpdate(sealed, "job-2", 0, 5, 2, key).status().code(), StatusCode::kUnauthenticated) << "another job";
  EXPECT_EQ(OpenUpdate(sealed, "job-1", 0, 5, 2, Ed25519PrivateKey::Generate().value().public_key().bytes()).status().code(),
            StatusCode::kUnauthenticated);
  // Every single-byte change anywhere is refused.
  for (size_t i = 0; i < sealed.size(); i += 37) {
    std::string bad = sealed;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    EXPECT_FALSE(OpenUpdate(bad, "job-1", 0, 5, 2, key).ok()) << "byte " << i;
  }
  for (size_t cut : {size_t{0}, size_t{3}, kSealHeaderBytes - 1}) {
    EXPECT_EQ(OpenUpdate(sealed.substr(0, cut), "job-1", 0, 5, 2, key).status().code(), StatusCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace cairn::train
