#include "runtime/crypto/request_signature.h"

#include "runtime/base/encoding.h"
#include "runtime/crypto/sha256.h"

namespace cairn {
namespace {

std::string Message(std::string_view method, std::string_view path, int64_t millis, std::string_view body) {
  return "cairn-http-v1\n" + std::string(method) + "\n" + std::string(path) + "\n" + std::to_string(millis) + "\n" +
         HexEncode(DigestView(Sha256(body)));
}

}  // namespace

StatusOr<std::string> SignRequest(const Ed25519PrivateKey& key, std::string_view method, std::string_view path,
                                  std::string_view body, int64_t unix_millis) {
  ASSIGN_OR_RETURN(std::string sig, key.Sign(Message(method, path, unix_millis, body)));
  return HexEncode(key.public_key().bytes()) + "." + std::to_string(unix_millis) + "." + Base64Encode(sig);
}

StatusOr<VerifiedSigner> VerifyRequest(std::string_view header, std::string_view method, std::string_view path,
                                       std::string_view body, int64_t now_unix_millis, int64_t max_skew_millis) {
  if (header.empty()) return UnauthenticatedError(std::string("this request must be signed (") + kSignatureHeader + " header)");
  const size_t a = header.find('.'), b = a == std::string_view::npos ? a : header.find('.', a + 1);
  if (b == std::string_view::npos) return UnauthenticatedError("malformed signature header: want KEY.MILLIS.SIGNATURE");
  auto key = HexDecode(header.substr(0, a));
  if (!key.ok() || key->size() != 32) return UnauthenticatedError("malformed signature header: the key is not 64 hex digits");
  const std::string_view millis_text = header.substr(a + 1, b - a - 1);
  if (millis_text.empty() || millis_text.size() > 18 || millis_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return UnauthenticatedError("malformed signature header: the time is not unix milliseconds");
  }
  const int64_t millis = std::stoll(std::string(millis_text));
  if (millis < now_unix_millis - max_skew_millis || millis > now_unix_millis + max_skew_millis) {
    return UnauthenticatedError("the request's signature time is " + std::to_string((millis - now_unix_millis) / 1000) +
                                " s off this server's clock (limit " + std::to_string(max_skew_millis / 1000) + " s)");
  }
  auto sig = Base64Decode(header.substr(b + 1));
  if (!sig.ok() || sig->size() != kEd25519SignatureSize) return UnauthenticatedError("malformed signature header: bad signature encoding");
  if (!Ed25519Verify(*key, Message(method, path, millis, body), *sig).ok()) {
    return UnauthenticatedError("the request's signature does not verify");
  }
  return VerifiedSigner{*key, *sig, millis};
}

}  // namespace cairn
