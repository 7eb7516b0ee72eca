#include "runtime/base/encoding.h"

#include <random>

#include <gtest/gtest.h>

#include "runtime/base/log.h"

namespace cairn {
namespace {

TEST(Hex, RoundTripAndErrors) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(*HexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(HexDecode("abc").status().code(), StatusCode::kInvalidArgument);
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("offset 2"), std::string::npos);
}

TEST(Account, SixtyFourHexDigitsEitherCase) {
  const std::string upper(64, 'A');
  auto raw = DecodeAccount(upper);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, std::string(32, '\xaa'));
  EXPECT_EQ(HexEncode(*raw), std::string(64, 'a'));
  for (const std::string& bad : {std::string(62, 'a'), std::string(66, 'a'), std::string(63, 'a') + "g", std::string(), std::string("alice")}) {
    auto r = DecodeAccount(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("account '" + bad + "' is not 64 hex digits"), std::string::npos) << r.status().message();
  }
  // Long input is cut in the message.
  EXPECT_EQ(DecodeAccount(std::string(1000, 'z')).status().message().find(std::string(81, 'z')), std::string::npos);
}

// RFC 4648 section 10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> kCases[] = {
      {"", ""},         {"f", "Zg=="},        {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, enc] : kCases) {
    EXPECT_EQ(Base64Encode(plain), enc);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(*dec, plain);
  }
}

TEST(Base64, RejectsMalformed) {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v\n", "Zh==", "Zm9=", "Zm+v/a==x", "====", "Zm=v"}) {
    EXPECT_FALSE(Base64Decode(bad).ok()) << bad;
  }
}

TEST(Base64, RandomRoundTrip) {
  std::mt19937 rng(42);
  for (int n = 0; n < 300; ++n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    auto dec = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(dec.ok());
    EXPECT_EQ(*dec, s);
    EXPECT_EQ(*HexDecode(HexEncode(s)), s);
  }
}

TEST(Logging, LevelsAreValidated) {
  EXPECT_TRUE(InitLogging("warn").ok());
  EXPECT_TRUE(InitLogging("off").ok());
  EXPECT_EQ(InitLogging("loud").code(), StatusCode::kInvalidArgument);
  CAIRN_LOG_INFO("not shown at level {}", "off");
}

}  // namespace
}  // namespace cairn
