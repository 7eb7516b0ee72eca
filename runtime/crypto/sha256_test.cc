#include "runtime/crypto/sha256.h"

#include <gtest/gtest.h>

#include "runtime/base/encoding.h"
#include "runtime/crypto/constant_time.h"

namespace cairn {
namespace {

std::string Hex(const Sha256Digest& d) { return HexEncode(DigestView(d)); }

// FIPS 180-2 appendix B vectors.
TEST(Sha256, Fips180Vectors) {
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256Hasher h;
  std::string block(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.Update(block);
  EXPECT_EQ(Hex(h.Finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, StreamingEqualsOneShotAndResets) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data += static_cast<char>(i * 7);
  Sha256Hasher h;
  for (size_t i = 0; i < data.size(); i += 333) h.Update(data.substr(i, 333));
  EXPECT_EQ(h.Finish(), Sha256(data));
  h.Update("abc");  // reusable after Finish
  EXPECT_EQ(h.Finish(), Sha256("abc"));
  EXPECT_EQ(Sha256Bytes("abc").size(), 32u);
}

TEST(ConstantTime, Equality) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace cairn
