// The worker's outbox on a real SQLite file: order, durability across
// reopening (as after kill -9: nothing acknowledged is lost, nothing acked
// comes back), blobs gating their records, the one-process lock, the audit
// history, and files that are not outboxes.
#include "worker/outbox.h"

#include <fstream>

#include <gtest/gtest.h>

#include "runtime/base/temp_dir.h"

namespace cairn::worker {
namespace {

wire::TaskUpdate Receipt(const std::string& entry, uint32_t attempt = 1) {
  return wire::TaskUpdate{"job-1", attempt, wire::TaskReceipt{entry}, 0};
}

TEST(Outbox, DeliversInOrderAndForgetsWhatIsAcked) {
  ScopedTempDir dir("cairn-outbox");
  FakeClock clock;
  auto box = Outbox::Open(dir.path() + "/outbox.db", &clock).value();
  EXPECT_FALSE(box->Head().has_value());
  const uint64_t a = box->Push(Receipt("r1")).value();
  const uint64_t b = box->Push(Receipt("r2")).value();
  EXPECT_LT(a, b);
  EXPECT_EQ(box->pending(), 2u);
  auto head = box->Head();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->sequence, a);
  EXPECT_EQ(head->update.sequence, a);
  EXPECT_EQ(std::get<wire::TaskReceipt>(head->update.body).entry, "r1");
  ASSERT_TRUE(box->Ack(a, 0, "").ok());
  ASSERT_TRUE(box->Ack(a, 0, "").ok());  // a duplicate Ack is harmless
  EXPECT_EQ(box->pending(), 1u);
  EXPECT_EQ(box->Head()->sequence, b);
  ASSERT_TRUE(box->Ack(b, static_cast<uint16_t>(StatusCode::kPermissionDenied), "not placed").ok());
  EXPECT_FALSE(box->Head().has_value());
  EXPECT_EQ(box->pending(), 0u);
  auto history = box->History().value();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_TRUE(history[1].acked);
  EXPECT_EQ(history[1].code, static_cast<uint16_t>(StatusCode::kPermissionDenied));
  EXPECT_EQ(history[1].result, "not placed");
}

TEST(Outbox, WhatWasPushedSurvivesAReopenAndAcksStick) {
  ScopedTempDir dir("cairn-outbox");
  const std::string path = dir.path() + "/outbox.db";
  uint64_t second = 0;
  {
    auto box = Outbox::Open(path).value();
    const uint64_t first = box->Push(Receipt("r1")).value();
    second = box->Push(Receipt("r2")).value();
    ASSERT_TRUE(box->Push(wire::TaskUpdate{"job-1", 1, wire::TaskFinished{true, "done", 0}, 0}).ok());
    ASSERT_TRUE(box->Ack(first, 0, "").ok());
  }  // the process ends here, as if killed: no shutdown step to rely on
  auto box = Outbox::Open(path).value();
  EXPECT_EQ(box->pending(), 2u);
  EXPECT_EQ(box->Head()->sequence, second);
  EXPECT_EQ(box->UnackedFinished(), (std::set<std::pair<std::string, uint32_t>>{{"job-1", 1}}));
  // New records never reuse a sequence.
  EXPECT_GT(box->Push(Receipt("r3")).value(), second + 1);
}

TEST(Outbox, ARecordWithABlobWaitsForItsUpload) {
  ScopedTempDir dir("cairn-outbox");
  auto box = Outbox::Open(dir.path() + "/outbox.db").value();
  const uint64_t cp = box->Push(Receipt("checkpoint entry"), "checkpoint bytes").value();
  ASSERT_TRUE(box->Push(Receipt("after")).ok());
  EXPECT_FALSE(box->Head().has_value()) << "the head waits for its blob; nothing behind it overtakes";
  auto up = box->NextUpload();
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->sequence, cp);
  EXPECT_EQ(up->blob, "checkpoint bytes");
  ASSERT_TRUE(box->MarkUploaded(cp).ok());
  EXPECT_FALSE(box->NextUpload().has_value());
  EXPECT_EQ(box->Head()->sequence, cp);
}

TEST(Outbox, UnackedFinishedTracksTaskResults) {
  ScopedTempDir dir("cairn-outbox");
  auto box = Outbox::Open(dir.path() + "/outbox.db").value();
  const uint64_t f = box->Push(wire::TaskUpdate{"job-2", 3, wire::TaskFinished{false, "x", 14}, 0}).value();
  EXPECT_EQ(box->UnackedFinished().count({"job-2", 3}), 1u);
  ASSERT_TRUE(box->Ack(f, 0, "").ok());
  EXPECT_TRUE(box->UnackedFinished().empty());
}

TEST(Outbox, OneWorkerAtATime) {
  ScopedTempDir dir("cairn-outbox");
  const std::string path = dir.path() + "/outbox.db";
  auto first = Outbox::Open(path);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Outbox::Open(path);
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another worker"), std::string::npos) << second.status();
  first->reset();
  EXPECT_TRUE(Outbox::Open(path).ok()) << "the lock goes with the process";
}

TEST(Outbox, RefusesFilesThatAreNotOutboxes) {
  ScopedTempDir dir("cairn-outbox");
  const std::string path = dir.path() + "/not-an-outbox.db";
  {
    std::ofstream out(path);
    out << "plain text, not SQLite";
  }
  EXPECT_FALSE(Outbox::Open(path).ok());
}

}  // namespace
}  // namespace cairn::worker
