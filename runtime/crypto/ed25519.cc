#include "runtime/crypto/ed25519.h"


#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "runtime/base/encoding.h"
#include "runtime/base/mutex.h"
#include "runtime/crypto/sha256.h"

namespace cairn {

struct Ed25519PublicKey::Impl {
  std::string raw;
  EVP_PKEY* pkey = nullptr;
  Mutex mu;
  EVP_MD_CTX* ctx PT_GUARDED_BY(mu) = nullptr;  // initialised once for verify
  ~Impl() {
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
  }
};

struct Ed25519PrivateKey::Impl {
  std::string seed;
  EVP_PKEY* pkey = nullptr;
  Mutex mu;
  EVP_MD_CTX* ctx PT_GUARDED_BY(mu) = nullptr;  // initialised once for signing
  ~Impl() {
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    OPENSSL_cleanse(seed.data(), seed.size());
  }
};

std::string OpenSslErrors() {
  std::string out;
  unsigned long e;
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error reported" : out;
}

StatusOr<Ed25519PublicKey> Ed25519PublicKey::FromBytes(std::string_view raw) {
  if (raw.size() != kEd25519PublicKeySize) {
    return InvalidArgumentError("Ed25519 public key must be 32 bytes, got " + std::to_string(raw.size()));
  }
  auto impl = std::make_shared<Impl>();
  impl->raw = std::string(raw);
  impl->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                           reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
  if (impl->pkey == nullptr) return InvalidArgumentError("Ed25519 public key rejected: " + OpenSslErrors());
  impl->ctx = EVP_MD_CTX_new();
  if (impl->ctx == nullptr || EVP_DigestVerifyInit(impl->ctx, nullptr, nullptr, nullptr, impl->pkey) != 1) {
    return InternalError("EVP_DigestVerifyInit: " + OpenSslErrors());
  }
  return Ed25519PublicKey(std::move(impl));
}

const std::string& Ed25519PublicKey::bytes() const { return impl_->raw; }

std::string Ed25519PublicKey::KeyId() const {
  Sha256Digest d = Sha256(impl_->raw);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), 16));
}

Status Ed25519PublicKey::Verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return InvalidArgumentError("Ed25519 signature must be 64 bytes, got " + std::to_string(signature.size()));
  }
  int rc;
  {
    MutexLock lock(&impl_->mu);
    rc = EVP_DigestVerify(impl_->ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size());
  }
  if (rc != 1) {
    ERR_clear_error();
    return UnauthenticatedError("Ed25519 signature does not verify under key " + KeyId());
  }
  return OkStatus();
}

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  std::string seed(kEd25519SeedSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), static_cast<int>(seed.size())) != 1) {
    return InternalError("RAND_bytes: " + OpenSslErrors());
  }
  auto key = FromSeed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return key;
}

StatusOr<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(std::string_view seed) {
  if (seed.size() != kEd25519SeedSize) {
    return InvalidArgumentError("Ed25519 seed must be 32 bytes, got " + std::to_string(seed.size()));
  }
  auto impl = std::make_shared<Impl>();
  impl->seed = std::string(seed);
  impl->pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                            reinterpret_cast<const unsigned char*>(seed.data()), seed.size());
  if (impl->pkey == nullptr) return InternalError("EVP_PKEY_new_raw_private_key: " + OpenSslErrors());
  impl->ctx = EVP_MD_CTX_new();
  if (impl->ctx == nullptr || EVP_DigestSignInit(impl->ctx, nullptr, nullptr, nullptr, impl->pkey) != 1) {
    return InternalError("EVP_DigestSignInit: " + OpenSslErrors());
  }
  unsigned char pub[kEd25519PublicKeySize];
  size_t pub_len = sizeof(pub);
  if (EVP_PKEY_get_raw_public_key(impl->pkey, pub, &pub_len) != 1) {
    return InternalError("EVP_PKEY_get_raw_public_key: " + OpenSslErrors());
  }
  ASSIGN_OR_RETURN(Ed25519PublicKey public_key,
                   Ed25519PublicKey::FromBytes(std::string_view(reinterpret_cast<char*>(pub), pub_len)));
  return Ed25519PrivateKey(std::move(impl), std::move(public_key));
}

const std::string& Ed25519PrivateKey::seed() const { return impl_->seed; }

StatusOr<std::string> Ed25519PrivateKey::Sign(std::string_view message) const {
  std::string sig(kEd25519SignatureSize, '\0');
  size_t sig_len = sig.size();
  int rc;
  {
    MutexLock lock(&impl_->mu);
    rc = EVP_DigestSign(impl_->ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(message.data()), message.size());
  }
  if (rc != 1 || sig_len != kEd25519SignatureSize) return InternalError("EVP_DigestSign: " + OpenSslErrors());
  return sig;
}

Status Ed25519Verify(std::string_view public_key, std::string_view message, std::string_view signature) {
  ASSIGN_OR_RETURN(Ed25519PublicKey key, Ed25519PublicKey::FromBytes(public_key));
  return key.Verify(message, signature);
}

}  // namespace cairn
