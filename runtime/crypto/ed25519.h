// Ed25519 identities (RFC 8032, pure Ed25519) through OpenSSL 3's EVP API.
//
// Every actor in cairn (worker, submitter, data contributor, coordinator) is
// an Ed25519 key pair; the 32-byte public key is the actor's identity and
// KeyId() its short printable name. Anything that goes into the ledger is
// signed with it.
//
// Keys hold one EVP context each, reused across calls (no per-signature
// allocation on the hot path) behind a mutex, so Sign/Verify may be called
// from several threads; copies share the context. Verification rejects
// non-canonical and malleable signatures (S >= L, bad encodings), as OpenSSL
// does.
#ifndef CAIRN_RUNTIME_CRYPTO_ED25519_H_
#define CAIRN_RUNTIME_CRYPTO_ED25519_H_

#include <memory>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"

namespace cairn {

inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519PublicKey {
 public:
  // `raw` must be exactly 32 bytes; otherwise InvalidArgument. The point
  // itself is decoded at verification time (an invalid point never verifies).
  static StatusOr<Ed25519PublicKey> FromBytes(std::string_view raw);

  // OK if `signature` is a valid signature of `message` under this key;
  // InvalidArgument if it is not 64 bytes; Unauthenticated if it does not
  // verify.
  Status Verify(std::string_view message, std::string_view signature) const;

  const std::string& bytes() const;
  // Lowercase hex of the first 16 bytes of SHA-256(public key): 32 chars.
  std::string KeyId() const;

  friend bool operator==(const Ed25519PublicKey& a, const Ed25519PublicKey& b) {
    return a.bytes() == b.bytes();
  }

 private:
  struct Impl;
  explicit Ed25519PublicKey(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

class Ed25519PrivateKey {
 public:
  // A fresh key from OpenSSL's CSPRNG.
  static StatusOr<Ed25519PrivateKey> Generate();
  // The RFC 8032 32-byte secret ("seed"); InvalidArgument if not 32 bytes.
  static StatusOr<Ed25519PrivateKey> FromSeed(std::string_view seed);

  // A 64-byte signature of `message`. Fails only if OpenSSL does (Internal).
  StatusOr<std::string> Sign(std::string_view message) const;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The secret seed. Handle with care: never log it.
  const std::string& seed() const;

 private:
  struct Impl;
  Ed25519PrivateKey(std::shared_ptr<Impl> impl, Ed25519PublicKey pub)
      : impl_(std::move(impl)), public_key_(std::move(pub)) {}
  std::shared_ptr<Impl> impl_;
  Ed25519PublicKey public_key_;
};

// One-shot helpers for keys seen once (e.g. test vectors, ledger replay of
// many signers). Same results and errors as the methods above.
Status Ed25519Verify(std::string_view public_key, std::string_view message,
                     std::string_view signature);

// The OpenSSL error queue as one string (and cleared), for error messages.
std::string OpenSslErrors();

}  // namespace cairn

#endif  // CAIRN_RUNTIME_CRYPTO_ED25519_H_
