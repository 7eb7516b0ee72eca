// API keys on a fake clock and a real state store: shown once, kept only
// as a hash, durable before they are returned, and found again after a
// restart; malformed and unknown keys are told apart.
#include "coordinator/api_keys.h"

#include <gtest/gtest.h>

#include "runtime/base/temp_dir.h"

namespace cairn::coordinator {
namespace {

TEST(ApiKeys, AKeyIsShownOnceKeptAsAHashAndSurvivesARestart) {
  ScopedTempDir dir("cairn-apikeys");
  FakeClock clock(1'800'000'000'000'000'000);
  const std::string account(32, 'a');
  std::string key;
  {
    auto store = StateStore::Open(dir.path() + "/state.db").value();
    auto keys = ApiKeys::Open(store.get(), &clock).value();
    key = keys->Create(account, "laptop").value();
    EXPECT_EQ(key.rfind("cairn-sk-", 0), 0u);
    EXPECT_EQ(key.size(), 9u + 48u);
    EXPECT_NE(keys->Create(account, "laptop").value(), key) << "every key is new";
    auto r = keys->Lookup(key).value();
    EXPECT_EQ(r.account, account);
    EXPECT_EQ(r.name, "laptop");
    EXPECT_EQ(r.created_unix_ms, 1'800'000'000'000);
    // Only the hash is stored.
    auto stored = store->LoadApiKeys().value();
    ASSERT_EQ(stored.size(), 2u);
    for (const auto& s : stored) EXPECT_EQ(s.hash_hex.find(key.substr(9)), std::string::npos);
  }
  clock.Advance(std::chrono::hours(24));
  auto store = StateStore::Open(dir.path() + "/state.db").value();
  auto keys = ApiKeys::Open(store.get(), &clock).value();
  EXPECT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys->Lookup(key).value().created_unix_ms, 1'800'000'000'000);
}

TEST(ApiKeys, BadInputIsRefusedByName) {
  ScopedTempDir dir("cairn-apikeys");
  FakeClock clock;
  auto store = StateStore::Open(dir.path() + "/state.db").value();
  auto keys = ApiKeys::Open(store.get(), &clock).value();
  EXPECT_EQ(keys->Create(std::string(31, 'a'), "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys->Create(std::string(32, 'a'), std::string(129, 'n')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys->Lookup("sk-not-ours").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys->Lookup("cairn-sk-" + std::string(47, '0')).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(keys->Lookup("cairn-sk-" + std::string(48, '0')).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace cairn::coordinator
