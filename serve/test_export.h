// For serving tests: a freshly initialised model of `kind` ("mlp",
// "char-gpt", ...), small, exported to TorchScript bytes as training
// exports it. Test-only (uses gtest).
#ifndef CAIRN_SERVE_TEST_EXPORT_H_
#define CAIRN_SERVE_TEST_EXPORT_H_

#include <string>

#include <gtest/gtest.h>

#include "train/models.h"

namespace cairn::serve {

inline std::string ExportForTest(const std::string& kind) {
  train::TrainConfig c;
  c.model = kind;
  c.layers = 1;
  c.heads = 2;
  c.width = 32;
  c.context = 16;
  auto m = train::BuildModel(c, train::ModelShape{});
  EXPECT_TRUE(m.ok()) << m.status();
  if (!m.ok()) return "";
  auto ts = (*m)->ExportTorchScript();
  EXPECT_TRUE(ts.ok()) << ts.status();
  return ts.ok() ? *ts : "";
}

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_TEST_EXPORT_H_
