// The full Wycheproof and SUPERCOP Ed25519 suites from ../shared/data/crypto.
// Skipped (with a message) where the shared data is absent.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/base/encoding.h"
#include "runtime/base/test_data.h"
#include "runtime/crypto/ed25519.h"

namespace cairn {
namespace {

TEST(Ed25519Wycheproof, EveryCaseHasTheExpectedResult) {
  auto text = ReadSharedData("crypto/wycheproof_ed25519_test.json");
  if (!text.ok()) GTEST_SKIP() << text.status();
  auto doc = nlohmann::json::parse(*text);
  int valid = 0, invalid = 0;
  for (const auto& group : doc.at("testGroups")) {
    std::string pk = HexDecode(group.at("publicKey").at("pk").get<std::string>()).value();
    for (const auto& t : group.at("tests")) {
      int id = t.at("tcId").get<int>();
      std::string result = t.at("result").get<std::string>();
      auto msg = HexDecode(t.at("msg").get<std::string>());
      auto sig = HexDecode(t.at("sig").get<std::string>());
      ASSERT_TRUE(msg.ok()) << "tcId " << id;
      // A signature that is not even hex is an invalid case by construction.
      bool ok = sig.ok() && Ed25519Verify(pk, *msg, *sig).ok();
      if (result == "valid") {
        EXPECT_TRUE(ok) << "tcId " << id << ": " << t.value("comment", "");
        ++valid;
      } else {
        ASSERT_EQ(result, "invalid") << "tcId " << id << ": no 'acceptable' cases are expected";
        EXPECT_FALSE(ok) << "tcId " << id << " must be rejected: " << t.value("comment", "");
        ++invalid;
      }
    }
  }
  EXPECT_EQ(valid + invalid, doc.at("numberOfTests").get<int>());
  EXPECT_GT(invalid, 50);  // includes malleable (S >= L) and non-canonical cases
}

TEST(Ed25519Supercop, SignsAndVerifiesEveryLine) {
  auto text = ReadSharedData("crypto/supercop_ed25519_sign.input");
  if (!text.ok()) GTEST_SKIP() << text.status();
  std::istringstream in(*text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // sk||pk : pk : msg : sig||msg :
    std::vector<std::string> f;
    size_t start = 0, colon;
    while ((colon = line.find(':', start)) != std::string::npos) {
      f.push_back(line.substr(start, colon - start));
      start = colon + 1;
    }
    ASSERT_EQ(f.size(), 4u) << "line " << n + 1;
    std::string sk = HexDecode(f[0]).value(), pk = HexDecode(f[1]).value();
    std::string msg = HexDecode(f[2]).value(), sigmsg = HexDecode(f[3]).value();
    ASSERT_EQ(sk.size(), 64u);
    std::string sig = sigmsg.substr(0, 64);
    ASSERT_EQ(sigmsg.substr(64), msg);
    auto key = Ed25519PrivateKey::FromSeed(sk.substr(0, 32));
    ASSERT_TRUE(key.ok());
    ASSERT_EQ(key->public_key().bytes(), pk) << "line " << n + 1;
    ASSERT_EQ(key->Sign(msg).value(), sig) << "line " << n + 1;
    ASSERT_TRUE(key->public_key().Verify(msg, sig).ok()) << "line " << n + 1;
    // A one-bit change to the message must not verify.
    std::string forged = msg.empty() ? std::string("\x01", 1) : msg;
    if (!msg.empty()) forged[0] = static_cast<char>(forged[0] ^ 1);
    EXPECT_FALSE(key->public_key().Verify(forged, sig).ok()) << "line " << n + 1;
    ++n;
  }
  EXPECT_EQ(n, 1024);
}

}  // namespace
}  // namespace cairn
