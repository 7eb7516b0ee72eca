#include "coordinator/artifact_index.h"

#include <gtest/gtest.h>

#include "runtime/base/files.h"
#include "runtime/base/temp_dir.h"

namespace cairn::coordinator {
namespace {

std::string Bytes(char c) { return std::string(32, c); }

TEST(ArtifactIndex, CheckpointsAndModelsSurviveReopen) {
  ScopedTempDir dir("cairn-artifacts");
  const std::string path = dir.path() + "/artifacts.json";
  {
    auto idx = ArtifactIndex::Open(path).value();
    ASSERT_TRUE(idx->SetCheckpoint("job-a", CheckpointRef{55, Bytes('\x01')}).ok());
    ASSERT_TRUE(idx->SetCheckpoint("job-b", CheckpointRef{3, Bytes('\x02')}).ok());
    ModelRef m{"gpt", Bytes('\x03'), "job-a", Bytes('\x04'), {Bytes('\x05'), Bytes('\x06')}, "", "CC0-1.0"};
    ASSERT_TRUE(idx->AddModel(m).ok());
    ModelRef ft{"gpt-ft", Bytes('\x07'), "job-c", "", {Bytes('\x05')}, Bytes('\x03'), "MIT"};
    ASSERT_TRUE(idx->AddModel(ft).ok());
  }
  auto idx = ArtifactIndex::Open(path);
  ASSERT_TRUE(idx.ok()) << idx.status().message();
  auto a = (*idx)->Checkpoint("job-a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->round, 55u);
  EXPECT_EQ(a->blob, Bytes('\x01'));
  EXPECT_EQ((*idx)->Checkpoint("job-b")->round, 3u);
  EXPECT_FALSE((*idx)->Checkpoint("job-z").has_value());
  auto m = (*idx)->Model("gpt");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->blob, Bytes('\x03'));
  EXPECT_EQ(m->job_id, "job-a");
  EXPECT_EQ(m->author, Bytes('\x04'));
  EXPECT_EQ(m->datasets, (std::vector<std::string>{Bytes('\x05'), Bytes('\x06')}));
  EXPECT_EQ(m->parent, "");
  EXPECT_EQ(m->license, "CC0-1.0");
  auto ft = (*idx)->Model("gpt-ft");
  ASSERT_TRUE(ft.has_value());
  EXPECT_EQ(ft->parent, Bytes('\x03'));
  EXPECT_EQ(ft->author, "");
  EXPECT_EQ((*idx)->Models().size(), 2u);
}

TEST(ArtifactIndex, MalformedFilesAreDataLossNotACrash) {
  ScopedTempDir dir("cairn-artifacts");
  const std::string path = dir.path() + "/artifacts.json";
  const std::string blob(64, 'a');
  const char* kBad[] = {
      "",
      "[]",
      "{\"checkpoints\": []}",
      "{\"checkpoints\": {\"j\": 5}}",
      "{\"checkpoints\": {\"j\": {\"blob\": \"aa\"}}}",
      "{\"checkpoints\": {\"j\": {\"round\": -1, \"blob\": \"BLOB\"}}}",
      "{\"checkpoints\": {\"j\": {\"round\": 2, \"blob\": \"zz\"}}}",
      "{\"models\": {\"m\": null}}",
      "{\"models\": {\"m\": {\"blob\": \"BLOB\", \"job\": 7}}}",
      "{\"models\": {\"m\": {\"blob\": \"BLOB\", \"datasets\": [1]}}}",
      "{\"models\": {\"m\": {\"blob\": \"BLOB\", \"datasets\": [\"abc\"]}}}",
      "{\"models\": {\"m\": {\"job\": \"j\"}}}",
      "{\"models\": {\"m\": {\"blob\": \"BLOB\", \"author\": \"abcd\"}}}",
      "{\"models\": {\"m\": {\"blob\": \"BLOB\", \"parent\": \"xyz\"}}}",
  };
  for (std::string text : kBad) {
    for (size_t at = text.find("BLOB"); at != std::string::npos; at = text.find("BLOB")) text.replace(at, 4, blob);
    ASSERT_TRUE(WriteFileAtomically(path, text).ok());
    auto idx = ArtifactIndex::Open(path);
    ASSERT_FALSE(idx.ok()) << text;
    EXPECT_EQ(idx.status().code(), StatusCode::kDataLoss) << text;
    EXPECT_NE(idx.status().message().find(path), std::string::npos) << idx.status().message();
  }
}

}  // namespace
}  // namespace cairn::coordinator
