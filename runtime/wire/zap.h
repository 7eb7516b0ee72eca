// Peer admission for CURVE sockets: a ZAP (ZeroMQ RFC 27) handler that maps a
// connecting peer's CURVE public key to a cairn identity.
//
// Modes:
//  - kAllowList: only keys added with Allow() may connect; the connection's
//    User-Id is the identity's key id.
//  - kOpen (open enrollment): any CURVE key may connect. Known keys get their
//    identity as User-Id; unknown ones get "curve:<hex key>" and must prove an
//    identity in-band (a signed WorkerHello whose key maps to this CURVE key).
// Every accepted connection also carries the ZAP metadata property
// "X-Curve-Key" = hex of its CURVE public key.
//
// Thread safety: PeerDirectory is safe to use from any thread (the ZAP thread
// reads it while other threads call Allow).
#ifndef CAIRN_RUNTIME_WIRE_ZAP_H_
#define CAIRN_RUNTIME_WIRE_ZAP_H_

#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "runtime/base/mutex.h"
#include "runtime/crypto/ed25519.h"

namespace cairn::wire {

enum class Enrollment { kOpen, kAllowList };

// An identity's CURVE key pair (raw 32-byte keys), derived from its Ed25519
// seed (runtime/crypto/x25519.h).
struct CurveKeyPair {
  std::string public_key;
  std::string secret_key;
};
StatusOr<CurveKeyPair> CurveKeysOf(const Ed25519PrivateKey& identity);

struct ZapVerdict {
  bool accepted = false;
  std::string user_id;  // on acceptance
  std::string reason;   // on refusal
};

class PeerDirectory {
 public:
  explicit PeerDirectory(Enrollment mode) : mode_(mode) {}

  // Admits `key` (allow-list) or names it (open). InvalidArgument for a key
  // with no CURVE image.
  Status Allow(const Ed25519PublicKey& key);
  // The identity key id bound to a raw 32-byte CURVE key, or "".
  std::string IdentityOf(std::string_view curve_key) const;
  ZapVerdict Check(std::string_view mechanism, std::string_view curve_key) const;
  Enrollment mode() const { return mode_; }

 private:
  const Enrollment mode_;
  mutable Mutex mu_;
  std::map<std::string, std::string> identity_by_curve_key_ GUARDED_BY(mu_);
};

// Serves ZAP requests on inproc://zeromq.zap.01 of `context` from its own
// thread until the context is shut down (zmq_ctx_shutdown).
class ZapHandler {
 public:
  // Binds the ZAP endpoint and starts the thread. Fails if another handler
  // is already bound in this context.
  static StatusOr<std::unique_ptr<ZapHandler>> Start(void* context, const PeerDirectory* directory);
  // Joins the thread; the context must have been shut down first.
  ~ZapHandler();

  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  ZapHandler() = default;
  void Loop();
  void* socket_ = nullptr;
  const PeerDirectory* directory_ = nullptr;
  std::thread thread_;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_ZAP_H_
