#include "train/seat.h"

#include "runtime/base/encoding.h"

namespace cairn::train {
namespace {

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}
std::string Named(const char* domain, const std::string& job, uint32_t attempt) {
  std::string m = domain;
  PutLe(m, job.size(), 4);
  m += job;
  PutLe(m, attempt, 4);
  return m;
}
std::string SeatBytes(const std::string& job, uint32_t attempt, uint32_t uid, const std::string& worker_key) {
  std::string m = Named("cairn/seat/v1\n", job, attempt);
  PutLe(m, uid, 4);
  return m + worker_key;
}
std::string UpdateBytes(const std::string& job, uint32_t attempt, uint64_t round, uint32_t uid, std::string_view hash) {
  std::string m = Named("cairn/update/v1\n", job, attempt);
  PutLe(m, round, 8);
  PutLe(m, uid, 4);
  return m.append(hash.data(), hash.size());
}

}  // namespace

StatusOr<std::string> RendezvousSecret(const Ed25519PrivateKey& op, const std::string& job, uint32_t attempt) {
  ASSIGN_OR_RETURN(std::string sig, op.Sign(Named("cairn/rendezvous/v1\n", job, attempt)));
  return HexEncode(DigestView(Sha256(sig))).substr(0, 32);
}

StatusOr<std::string> SignSeat(const Ed25519PrivateKey& op, const std::string& job, uint32_t attempt, uint32_t uid,
                               const std::string& worker_key) {
  return op.Sign(SeatBytes(job, attempt, uid, worker_key));
}

Status VerifySeat(const std::string& operator_key, const std::string& job, uint32_t attempt, uint32_t uid,
                  const std::string& worker_key, std::string_view ticket) {
  Status s = Ed25519Verify(operator_key, SeatBytes(job, attempt, uid, worker_key), ticket);
  if (!s.ok()) return UnauthenticatedError("uid " + std::to_string(uid) + " has no valid seat ticket for attempt " +
                                           std::to_string(attempt) + " of " + job);
  return OkStatus();
}

StatusOr<std::string> SealUpdate(const Ed25519PrivateKey& key, const std::string& job, uint32_t attempt, uint64_t round,
                                 uint32_t uid, std::string_view payload) {
  const Sha256Digest hash = Sha256(payload);
  ASSIGN_OR_RETURN(std::string sig, key.Sign(UpdateBytes(job, attempt, round, uid, DigestView(hash))));
  std::string out = "CUP1";
  out.reserve(kSealHeaderBytes + payload.size());
  PutLe(out, uid, 4);
  PutLe(out, round, 8);
  out.append(DigestView(hash));
  out += sig;
  return out.append(payload.data(), payload.size());
}

StatusOr<std::string_view> OpenUpdate(std::string_view sealed, const std::string& job, uint32_t attempt, uint64_t round,
                                      uint32_t uid, const std::string& public_key) {
  if (sealed.size() < kSealHeaderBytes || sealed.substr(0, 4) != "CUP1") {
    return InvalidArgumentError("uid " + std::to_string(uid) + "'s update is not a sealed update (CUP1)");
  }
  if (GetLe(sealed, 4, 4) != uid) return UnauthenticatedError("uid " + std::to_string(uid) + "'s update names another sender");
  if (GetLe(sealed, 8, 8) != round) return UnauthenticatedError("uid " + std::to_string(uid) + "'s update is for another round");
  const std::string_view hash = sealed.substr(16, 32);
  const std::string_view payload = sealed.substr(kSealHeaderBytes);
  if (DigestView(Sha256(payload)) != hash) return UnauthenticatedError("uid " + std::to_string(uid) + "'s update does not match its hash");
  Status s = Ed25519Verify(public_key, UpdateBytes(job, attempt, round, uid, hash), sealed.substr(48, 64));
  if (!s.ok()) return UnauthenticatedError("uid " + std::to_string(uid) + "'s update signature does not verify");
  return payload;
}

}  // namespace cairn::train
