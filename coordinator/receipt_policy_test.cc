// Every rule of what a worker may append, as a pure function: no sockets,
// no coordinator.
#include "coordinator/receipt_policy.h"

#include <gtest/gtest.h>

#include "runtime/base/encoding.h"

namespace cairn::coordinator {
namespace {

using Body = ledger::schema::LedgerEntry::Body;

const Ed25519PrivateKey& Worker() {
  static const Ed25519PrivateKey key = Ed25519PrivateKey::Generate().value();
  return key;
}

std::string Receipt(const Ed25519PrivateKey& key, const std::string& job, uint32_t attempt, uint64_t round) {
  return ledger::MakeEntry(key, 1'800'000'000'000, [&](Body::Builder b) {
           auto s = b.initStepReceipt();
           s.setJobId(job);
           s.setAttempt(attempt);
           s.setRound(round);
           s.setSteps(1);
           s.setFingerprintBefore(ledger::AsData(std::string(32, 'b')));
           s.setFingerprintAfter(ledger::AsData(std::string(32, 'a')));
         }).value();
}

std::string Model(const std::string& author_hex, std::map<std::string, uint32_t> shares) {
  return ledger::MakeEntry(Worker(), 1'800'000'000'000, [&](Body::Builder b) {
           auto m = b.initModelRegistered();
           m.setName("m");
           m.setModelHash(ledger::AsData(std::string(32, 'h')));
           m.setJobId("job-1");
           m.setLicense("MIT");
           if (!author_hex.empty()) m.setAuthor(ledger::AsData(HexDecode(author_hex).value()));
           auto list = m.initShares(static_cast<unsigned>(shares.size()));
           unsigned i = 0;
           for (const auto& [hex, bp] : shares) {
             list[i].setAccount(ledger::AsData(HexDecode(hex).value()));
             list[i++].setBasisPoints(bp);
           }
         }).value();
}

EntryContext Context() {
  EntryContext c;
  c.sender_key = Worker().public_key().bytes();
  c.update_job = "job-1";
  c.update_attempt = 2;
  c.placed = true;
  return c;
}

TEST(ReceiptPolicy, AWorkersOwnReceiptForItsAttemptIsAccepted) {
  auto e = DecodeWorkerEntry(Receipt(Worker(), "job-1", 2, 7)).value();
  EXPECT_EQ(e.type, Body::STEP_RECEIPT);
  EXPECT_EQ(e.receipt_id(), (ReceiptId{"job-1", 2, 7, Worker().public_key().bytes()}));
  EXPECT_TRUE(CheckWorkerEntry(e, Context()).ok());
}

TEST(ReceiptPolicy, WhatAWorkerMayNotAppendIsRefusedForGood) {
  auto other = Ed25519PrivateKey::Generate().value();
  auto forged = CheckWorkerEntry(DecodeWorkerEntry(Receipt(other, "job-1", 2, 7)).value(), Context());
  EXPECT_EQ(forged.code(), StatusCode::kPermissionDenied) << forged;
  auto wrong_job = CheckWorkerEntry(DecodeWorkerEntry(Receipt(Worker(), "job-2", 2, 7)).value(), Context());
  EXPECT_EQ(wrong_job.code(), StatusCode::kInvalidArgument) << wrong_job;
  auto wrong_attempt = CheckWorkerEntry(DecodeWorkerEntry(Receipt(Worker(), "job-1", 1, 7)).value(), Context());
  EXPECT_EQ(wrong_attempt.code(), StatusCode::kInvalidArgument) << wrong_attempt;
  EntryContext not_placed = Context();
  not_placed.placed = false;
  auto unplaced = CheckWorkerEntry(DecodeWorkerEntry(Receipt(Worker(), "job-1", 2, 7)).value(), not_placed);
  EXPECT_EQ(unplaced.code(), StatusCode::kPermissionDenied) << unplaced;
  EXPECT_NE(unplaced.message().find("not placed on attempt 2"), std::string::npos) << unplaced;
  // Entries only the coordinator writes.
  auto credit = ledger::MakeEntry(Worker(), 1, [](Body::Builder b) {
    auto c = b.initAccountCredited();
    c.setAccount(ledger::AsData(std::string(32, 'x')));
    c.setAmountMicros(5);
  });
  EXPECT_EQ(DecodeWorkerEntry(*credit).status().code(), StatusCode::kInvalidArgument);
  // Bytes that are not a valid entry at all.
  std::string bad = Receipt(Worker(), "job-1", 2, 7);
  bad[bad.size() - 3] ^= 1;
  EXPECT_FALSE(DecodeWorkerEntry(bad).ok());
  EXPECT_FALSE(DecodeWorkerEntry("not an entry").ok());
}

TEST(ReceiptPolicy, AModelsRoyaltiesGoWhereTheSpecSays) {
  const std::string author(64, 'a'), worker_itself(64, 'e'), partner(64, 'c');
  EntryContext c = Context();
  c.spec_author = author;
  c.spec_shares = {{partner, 10000}};
  EXPECT_TRUE(CheckWorkerEntry(DecodeWorkerEntry(Model(author, {{partner, 10000}})).value(), c).ok());
  auto greedy = CheckWorkerEntry(DecodeWorkerEntry(Model(worker_itself, {{partner, 10000}})).value(), c);
  EXPECT_EQ(greedy.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(greedy.message().find("output.author"), std::string::npos) << greedy;
  auto shares = CheckWorkerEntry(DecodeWorkerEntry(Model(author, {{worker_itself, 10000}})).value(), c);
  EXPECT_EQ(shares.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(shares.message().find("output.shares"), std::string::npos) << shares;
}

}  // namespace
}  // namespace cairn::coordinator
