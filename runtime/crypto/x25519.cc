#include "runtime/crypto/x25519.h"

#include <memory>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "runtime/crypto/ed25519.h"

namespace cairn {
namespace {
struct BnCtxDeleter { void operator()(BN_CTX* c) const { BN_CTX_free(c); } };
struct BnDeleter { void operator()(BIGNUM* b) const { BN_free(b); } };
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;
}  // namespace

StatusOr<std::string> X25519SecretFromEd25519Seed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgumentError("Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  unsigned char h[64];
  unsigned int len = 0;
  if (EVP_Digest(seed.data(), seed.size(), h, &len, EVP_sha512(), nullptr) != 1) {
    return InternalError("SHA-512: " + OpenSslErrors());
  }
  h[0] &= 248;
  h[31] &= 127;
  h[31] |= 64;
  std::string out(reinterpret_cast<char*>(h), kX25519KeySize);
  OPENSSL_cleanse(h, sizeof(h));
  return out;
}

StatusOr<std::string> X25519PublicFromSecret(std::string_view secret) {
  if (secret.size() != kX25519KeySize) {
    return InvalidArgumentError("X25519 secret must be 32 bytes, got " + std::to_string(secret.size()));
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_X25519, nullptr, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  if (pkey == nullptr) return InternalError("X25519 key: " + OpenSslErrors());
  std::string pub(kX25519KeySize, '\0');
  size_t len = pub.size();
  int rc = EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(pub.data()), &len);
  EVP_PKEY_free(pkey);
  if (rc != 1 || len != kX25519KeySize) return InternalError("X25519 public key: " + OpenSslErrors());
  return pub;
}

StatusOr<std::string> X25519PublicFromEd25519Public(std::string_view ed25519_public) {
  if (ed25519_public.size() != kEd25519PublicKeySize) {
    return InvalidArgumentError("Ed25519 public key must be 32 bytes, got " +
                                std::to_string(ed25519_public.size()));
  }
  unsigned char y_le[32];
  for (size_t i = 0; i < 32; ++i) y_le[i] = static_cast<unsigned char>(ed25519_public[i]);
  y_le[31] &= 0x7f;  // the top bit is the sign of x, not part of y
  std::unique_ptr<BN_CTX, BnCtxDeleter> ctx(BN_CTX_new());
  BnPtr p(BN_new()), y(BN_lebin2bn(y_le, 32, nullptr)), one(BN_new()), num(BN_new()), den(BN_new()),
      u(BN_new());
  if (!ctx || !p || !y || !one || !num || !den || !u) return InternalError("BIGNUM allocation failed");
  // p = 2^255 - 19
  BN_set_bit(p.get(), 255);
  BN_sub_word(p.get(), 19);
  BN_one(one.get());
  // Non-canonical y (>= p) is reduced, as the curve arithmetic would.
  BN_nnmod(y.get(), y.get(), p.get(), ctx.get());
  BN_mod_add(num.get(), one.get(), y.get(), p.get(), ctx.get());
  BN_mod_sub(den.get(), one.get(), y.get(), p.get(), ctx.get());
  if (BN_is_zero(den.get())) {
    return InvalidArgumentError("Ed25519 public key is the identity point (y = 1)");
  }
  if (BN_mod_inverse(den.get(), den.get(), p.get(), ctx.get()) == nullptr) {
    return InternalError("modular inverse failed: " + OpenSslErrors());
  }
  BN_mod_mul(u.get(), num.get(), den.get(), p.get(), ctx.get());
  std::string out(kX25519KeySize, '\0');
  if (BN_bn2lebinpad(u.get(), reinterpret_cast<unsigned char*>(out.data()), 32) != 32) {
    return InternalError("BN_bn2lebinpad failed");
  }
  return out;
}

}  // namespace cairn
