// Who may take part in a training attempt's exchange (docs/verification.md,
// "Authenticated exchange"), free of LibTorch so the coordinator signs with
// the same code the workers check with.
//  - The rendezvous secret: the attempt's keys in the rendezvous store live
//    under "<job>/<attempt>/<secret>/"; it is sent to the placed workers only,
//    over the CURVE bus, so nobody else can read or write the group's keys.
//    The coordinator derives it from its log key (no state to keep).
//  - A seat ticket: the operator's Ed25519 signature over (job, attempt,
//    uid, worker key). Every member publishes its key and ticket; members
//    admit only uids whose ticket verifies, and check each peer's update
//    against that key.
//  - A sealed update: a pseudo-gradient payload with its sender's signature
//    over (job, attempt, round, uid, SHA-256 of the payload):
//      "CUP1" | u32le uid | u64le round | payload SHA-256 (32) | signature (64) | payload
// Thread safety: pure functions.
#ifndef CAIRN_TRAIN_SEAT_H_
#define CAIRN_TRAIN_SEAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "runtime/base/statusor.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/crypto/sha256.h"

namespace cairn::train {

inline constexpr size_t kSealHeaderBytes = 4 + 4 + 8 + 32 + 64;

// 32 hex digits, unguessable without the operator's key.
StatusOr<std::string> RendezvousSecret(const Ed25519PrivateKey& op, const std::string& job, uint32_t attempt);

StatusOr<std::string> SignSeat(const Ed25519PrivateKey& op, const std::string& job, uint32_t attempt, uint32_t uid,
                               const std::string& worker_key);
// OK, or Unauthenticated naming the uid.
Status VerifySeat(const std::string& operator_key, const std::string& job, uint32_t attempt, uint32_t uid,
                  const std::string& worker_key, std::string_view ticket);

// Prepends the header and `key`'s signature.
StatusOr<std::string> SealUpdate(const Ed25519PrivateKey& key, const std::string& job, uint32_t attempt, uint64_t round,
                                 uint32_t uid, std::string_view payload);
// The payload of a sealed update from `uid` for `round`, after checking the
// header, the hash and the signature under `public_key`: Unauthenticated or
// InvalidArgument naming what is wrong.
StatusOr<std::string_view> OpenUpdate(std::string_view sealed, const std::string& job, uint32_t attempt, uint64_t round,
                                      uint32_t uid, const std::string& public_key);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_SEAT_H_
