#include "ledger/note.h"

#include <gtest/gtest.h>

#include "ledger/checkpoint.h"
#include "runtime/base/test_data.h"

namespace cairn::ledger {
namespace {

std::vector<NoteVerifier> LoadKeys(const std::string& file) {
  std::vector<NoteVerifier> out;
  auto text = ReadSharedData("signed-notes/" + file);
  if (!text.ok()) return out;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    std::string line = text->substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text->size() : nl + 1;
    if (line.empty()) continue;
    auto v = NoteVerifier::Parse(line);
    EXPECT_TRUE(v.ok()) << line << ": " << v.status();
    if (v.ok()) out.push_back(*v);
  }
  return out;
}

TEST(SignedNote, SharedExamplesVerifyUnderTheirKeys) {
  if (SharedDataDir().empty()) GTEST_SKIP() << "shared test data not found (set CAIRN_SHARED_DATA)";
  auto c2sp = LoadKeys("c2sp-signed-note-example.vkey");
  ASSERT_EQ(c2sp.size(), 1u);
  auto note = ReadSharedData("signed-notes/c2sp-signed-note-example.note").value();
  auto v = VerifyNote(note, c2sp);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->text, "This is an example message.\n");

  auto go = LoadKeys("go-sumdb-note.vkeys");
  ASSERT_EQ(go.size(), 2u);
  auto one = VerifyNote(ReadSharedData("signed-notes/go-sumdb-note-peterneumann.note").value(), go);
  ASSERT_TRUE(one.ok()) << one.status();
  auto two = VerifyNote(ReadSharedData("signed-notes/go-sumdb-note-peterneumann-enochroot.note").value(), go);
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->verified_by.size(), 2u);
  // Under someone else's key the example is not accepted.
  EXPECT_EQ(VerifyNote(note, go).status().code(), StatusCode::kUnauthenticated);
  // Nor with its text changed.
  std::string tampered = note;
  tampered[3] = 'S';
  EXPECT_EQ(VerifyNote(tampered, c2sp).status().code(), StatusCode::kUnauthenticated);
}

TEST(SignedNote, SharedCheckpointExampleParses) {
  auto text = ReadSharedData("signed-notes/c2sp-tlog-checkpoint-example.checkpoint");
  if (!text.ok()) GTEST_SKIP() << text.status();
  auto body = text->substr(0, text->find("\n\n") + 1);
  auto c = Checkpoint::ParseBody(body);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->origin, "example.com/behind-the-sofa");
  EXPECT_EQ(c->size, 20852163u);
  EXPECT_EQ(c->Body(), body);
}

TEST(Checkpoint, SignAndOpenRoundTrip) {
  auto key = Ed25519PrivateKey::Generate().value();
  auto vkey = NoteVerifier::For("cairn.test/log", key.public_key()).value();
  auto reparsed = NoteVerifier::Parse(vkey.ToString());
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(reparsed->key_id, vkey.key_id);
  Checkpoint c{"cairn.test/log", 42, LeafHash("x")};
  auto note = SignCheckpoint(c, key).value();
  auto opened = OpenCheckpoint(note, vkey);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(opened->size, 42u);
  EXPECT_EQ(opened->root, c.root);
  // A different origin under the same key is refused.
  Checkpoint other{"cairn.test/other", 42, c.root};
  auto other_vkey = NoteVerifier::For("cairn.test/other", key.public_key()).value();
  EXPECT_FALSE(OpenCheckpoint(SignCheckpoint(other, key).value(), vkey).ok());
  EXPECT_TRUE(OpenCheckpoint(SignCheckpoint(other, key).value(), other_vkey).ok());
  // Malformed bodies.
  EXPECT_FALSE(Checkpoint::ParseBody("o\n007\nAAAA\n").ok());
  EXPECT_FALSE(Checkpoint::ParseBody("o\n7\n").ok());
  EXPECT_FALSE(NoteVerifier::Parse("name+deadbeef+AAAA").ok());
}

}  // namespace
}  // namespace cairn::ledger
