#include "runtime/crypto/key_file.h"

#include <cstdlib>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "runtime/base/encoding.h"
#include "runtime/base/temp_dir.h"
#include "runtime/crypto/x25519.h"

namespace cairn {
namespace {

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }
  ScopedTempDir tmp_{"cairn-keyfile"};
  const std::string dir_ = tmp_.path();
};

TEST_F(KeyFileTest, SaveLoadRoundTripWithMode0600) {
  auto key = Ed25519PrivateKey::Generate().value();
  std::string path = dir_ + "/sub/dir/identity.key";
  ASSERT_TRUE(SaveKeyFile(key, path, false).ok());
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto loaded = LoadKeyFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->public_key().bytes(), key.public_key().bytes());
  EXPECT_EQ(loaded->Sign("m").value(), key.Sign("m").value());
}

TEST_F(KeyFileTest, RefusesToOverwriteAnIdentity) {
  auto a = Ed25519PrivateKey::Generate().value();
  auto b = Ed25519PrivateKey::Generate().value();
  std::string path = dir_ + "/identity.key";
  ASSERT_TRUE(SaveKeyFile(a, path, false).ok());
  EXPECT_EQ(SaveKeyFile(b, path, false).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(LoadKeyFile(path)->public_key().bytes(), a.public_key().bytes());
  ASSERT_TRUE(SaveKeyFile(b, path, true).ok());
  EXPECT_EQ(LoadKeyFile(path)->public_key().bytes(), b.public_key().bytes());
}

TEST_F(KeyFileTest, RefusesGroupReadableKeys) {
  auto key = Ed25519PrivateKey::Generate().value();
  std::string path = dir_ + "/identity.key";
  ASSERT_TRUE(SaveKeyFile(key, path, false).ok());
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  auto loaded = LoadKeyFile(path);
  EXPECT_EQ(loaded.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(loaded.status().message().find("chmod 600"), std::string::npos);
}

TEST_F(KeyFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(LoadKeyFile(dir_ + "/nope.key").status().code(), StatusCode::kNotFound);
}

TEST(KeyFileFormat, RejectsCorruptionWithAClearReason) {
  auto key = Ed25519PrivateKey::Generate().value();
  std::string good = FormatKeyFile(key);
  ASSERT_TRUE(ParseKeyFile(good).ok());
  EXPECT_EQ(good.rfind(std::string(kKeyFileMagic) + "\n", 0), 0u);

  auto expect_bad = [](const std::string& text, const std::string& why) {
    auto r = ParseKeyFile(text);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << why;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status();
  };
  expect_bad("", "truncated");
  expect_bad("ssh-ed25519 AAAA\nx\ny\n", "not a cairn key file");
  expect_bad("cairn-identity-key v2\nx\ny\n", "unsupported key file version");
  expect_bad(good + "extra", "after line 3");
  std::string other_pub = FormatKeyFile(Ed25519PrivateKey::Generate().value());
  std::string mixed = good.substr(0, good.rfind("ed25519-public")) +
                      other_pub.substr(other_pub.rfind("ed25519-public"));
  expect_bad(mixed, "does not match");
  std::string bad_b64 = good;
  bad_b64[std::string(kKeyFileMagic).size() + 1 + 14] = '*';
  expect_bad(bad_b64, "line 2");
}

TEST(X25519, Ed25519PublicMapsToTheCurveKeyOfItsSeed) {
  for (int i = 0; i < 50; ++i) {
    auto key = Ed25519PrivateKey::Generate().value();
    std::string secret = X25519SecretFromEd25519Seed(key.seed()).value();
    std::string from_secret = X25519PublicFromSecret(secret).value();
    std::string from_public = X25519PublicFromEd25519Public(key.public_key().bytes()).value();
    ASSERT_EQ(HexEncode(from_secret), HexEncode(from_public));
  }
}

// The RFC 8032 TEST 1 key: both derivations agree; the identity point has no
// Montgomery image and is refused.
TEST(X25519, KnownConversionAndIdentityPoint) {
  std::string pub = HexDecode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a").value();
  std::string seed = HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value();
  EXPECT_EQ(X25519PublicFromEd25519Public(pub).value(),
            X25519PublicFromSecret(X25519SecretFromEd25519Seed(seed).value()).value());
  std::string identity(32, '\0');
  identity[0] = 1;
  EXPECT_EQ(X25519PublicFromEd25519Public(identity).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn
