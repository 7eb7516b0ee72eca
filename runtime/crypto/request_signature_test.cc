#include "runtime/crypto/request_signature.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "runtime/base/encoding.h"

namespace cairn {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kNow = 1'700'000'000'000;  // unix millis
constexpr char kBody[] = R"({"account":"ab","amount_micros":5})";

class RequestSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto key = Ed25519PrivateKey::Generate();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = std::make_unique<Ed25519PrivateKey>(*key);
  }
  std::string Sign(int64_t millis, const std::string& method = "POST", const std::string& path = "/accounts/credit",
                   const std::string& body = kBody) {
    auto header = SignRequest(*key_, method, path, body, millis);
    EXPECT_TRUE(header.ok()) << header.status();
    return header.ok() ? *header : "";
  }
  StatusOr<VerifiedSigner> Verify(const std::string& header, int64_t now = kNow, const std::string& method = "POST",
                                  const std::string& path = "/accounts/credit", const std::string& body = kBody) {
    return VerifyRequest(header, method, path, body, now);
  }
  std::unique_ptr<Ed25519PrivateKey> key_;
};

// The refusal is Unauthenticated and names the problem.
void ExpectRefused(const StatusOr<VerifiedSigner>& r, const std::string& problem) {
  ASSERT_FALSE(r.ok()) << "accepted; wanted a refusal naming: " << problem;
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(problem));
}

TEST_F(RequestSignatureTest, HeaderIsKeyMillisSignature) {
  const std::string header = Sign(kNow);
  const std::string key_hex = HexEncode(key_->public_key().bytes());
  ASSERT_EQ(header.rfind(key_hex + "." + std::to_string(kNow) + ".", 0), 0u) << header;
  auto sig = Base64Decode(header.substr(key_hex.size() + 1 + std::to_string(kNow).size() + 1));
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), kEd25519SignatureSize);
}

TEST_F(RequestSignatureTest, VerifiesAndNamesTheSigner) {
  auto r = Verify(Sign(kNow));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->public_key, key_->public_key().bytes());
  EXPECT_EQ(r->signature.size(), kEd25519SignatureSize);
  EXPECT_EQ(r->unix_millis, kNow);
}

TEST_F(RequestSignatureTest, SkewWindowEdgesAreInclusive) {
  const int64_t skew = kMaxRequestSkewMillis;
  EXPECT_TRUE(Verify(Sign(kNow - skew)).ok()) << "signed exactly one window ago";
  EXPECT_TRUE(Verify(Sign(kNow + skew)).ok()) << "signed exactly one window ahead";
  ExpectRefused(Verify(Sign(kNow - skew - 1)), "off this server's clock");
  ExpectRefused(Verify(Sign(kNow + skew + 1)), "off this server's clock");
  ExpectRefused(Verify(Sign(kNow - 10 * skew)), "-1200 s off this server's clock (limit 120 s)");
}

TEST_F(RequestSignatureTest, ACustomWindowIsHonoured) {
  const std::string header = Sign(kNow - 5'000);
  EXPECT_TRUE(VerifyRequest(header, "POST", "/accounts/credit", kBody, kNow, 5'000).ok());
  ExpectRefused(VerifyRequest(header, "POST", "/accounts/credit", kBody, kNow, 4'999), "limit 4 s");
}

TEST_F(RequestSignatureTest, TamperedRequestsDoNotVerify) {
  const std::string header = Sign(kNow);
  ExpectRefused(Verify(header, kNow, "GET"), "does not verify");
  ExpectRefused(Verify(header, kNow, "post"), "does not verify");
  ExpectRefused(Verify(header, kNow, "POST", "/api-keys"), "does not verify");
  ExpectRefused(Verify(header, kNow, "POST", "/accounts/credit/"), "does not verify");
  ExpectRefused(Verify(header, kNow, "POST", "/accounts/credit", R"({"account":"ab","amount_micros":6})"),
                "does not verify");
  ExpectRefused(Verify(header, kNow, "POST", "/accounts/credit", ""), "does not verify");
  // The signing time is signed too: moving it (within the window) breaks it.
  const std::string key_hex = HexEncode(key_->public_key().bytes());
  std::string moved = header;
  moved.replace(key_hex.size() + 1, std::to_string(kNow).size(), std::to_string(kNow + 1));
  ExpectRefused(Verify(moved), "does not verify");
}

TEST_F(RequestSignatureTest, AnotherKeyDoesNotVerify) {
  auto other = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(other.ok());
  const std::string header = Sign(kNow);
  // Claiming to be another identity with this key's signature.
  const std::string claimed = HexEncode(other->public_key().bytes()) + header.substr(header.find('.'));
  ExpectRefused(Verify(claimed), "does not verify");
  // 32 bytes that are not a point on the curve are refused the same way.
  ExpectRefused(Verify(std::string(64, 'f') + header.substr(header.find('.'))), "does not verify");
}

TEST_F(RequestSignatureTest, EveryMalformedHeaderIsRefusedNamingTheProblem) {
  const std::string good = Sign(kNow);
  const size_t a = good.find('.'), b = good.find('.', a + 1);
  const std::string key = good.substr(0, a), millis = good.substr(a + 1, b - a - 1), sig = good.substr(b + 1);
  struct Case {
    std::string header, problem;
  };
  const std::vector<Case> cases = {
      {"", "must be signed (Cairn-Signature header)"},
      {"garbage", "want KEY.MILLIS.SIGNATURE"},
      {key + "." + millis, "want KEY.MILLIS.SIGNATURE"},
      {key + millis + sig, "want KEY.MILLIS.SIGNATURE"},
      {"." + millis + "." + sig, "the key is not 64 hex digits"},
      {key.substr(2) + "." + millis + "." + sig, "the key is not 64 hex digits"},
      {key + "00." + millis + "." + sig, "the key is not 64 hex digits"},
      {"zz" + key.substr(2) + "." + millis + "." + sig, "the key is not 64 hex digits"},
      {key + "0." + millis + "." + sig, "the key is not 64 hex digits"},
      {key + ".." + sig, "the time is not unix milliseconds"},
      {key + ".-" + millis + "." + sig, "the time is not unix milliseconds"},
      {key + "." + millis + "s." + sig, "the time is not unix milliseconds"},
      {key + ". " + millis + "." + sig, "the time is not unix milliseconds"},
      {key + ".1e12." + sig, "the time is not unix milliseconds"},
      {key + "." + std::string(19, '1') + "." + sig, "the time is not unix milliseconds"},
      {key + "." + millis + ".", "bad signature encoding"},
      {key + "." + millis + "." + sig.substr(4), "bad signature encoding"},
      {key + "." + millis + "." + sig + "AAAA", "bad signature encoding"},
      {key + "." + millis + "." + sig.substr(0, sig.size() - 1), "bad signature encoding"},
      {key + "." + millis + "." + sig + ".x", "bad signature encoding"},
      {key + "." + millis + ".*" + sig.substr(1), "bad signature encoding"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("header: '" + c.header + "'");
    ExpectRefused(Verify(c.header), c.problem);
  }
  EXPECT_TRUE(Verify(good).ok()) << "the parts reassemble into a good header";
}

}  // namespace
}  // namespace cairn
