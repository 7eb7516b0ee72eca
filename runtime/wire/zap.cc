#include "runtime/wire/zap.h"

#include <vector>

#include <zmq.h>

#include "runtime/base/encoding.h"
#include "runtime/base/log.h"
#include "runtime/crypto/x25519.h"
#include "runtime/wire/socket.h"

namespace cairn::wire {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";

// ZMTP metadata: name-length (1 byte), name, value-length (4 bytes, network
// order), value.
std::string Metadata(const std::string& name, const std::string& value) {
  std::string out;
  out += static_cast<char>(name.size());
  out += name;
  uint32_t n = static_cast<uint32_t>(value.size());
  out += static_cast<char>(n >> 24);
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += value;
  return out;
}

}  // namespace

StatusOr<CurveKeyPair> CurveKeysOf(const Ed25519PrivateKey& identity) {
  CurveKeyPair keys;
  ASSIGN_OR_RETURN(keys.secret_key, X25519SecretFromEd25519Seed(identity.seed()));
  ASSIGN_OR_RETURN(keys.public_key, X25519PublicFromSecret(keys.secret_key));
  return keys;
}

Status PeerDirectory::Allow(const Ed25519PublicKey& key) {
  ASSIGN_OR_RETURN(std::string curve, X25519PublicFromEd25519Public(key.bytes()));
  MutexLock lock(&mu_);
  identity_by_curve_key_[curve] = key.KeyId();
  return OkStatus();
}

std::string PeerDirectory::IdentityOf(std::string_view curve_key) const {
  MutexLock lock(&mu_);
  auto it = identity_by_curve_key_.find(std::string(curve_key));
  return it == identity_by_curve_key_.end() ? "" : it->second;
}

ZapVerdict PeerDirectory::Check(std::string_view mechanism, std::string_view curve_key) const {
  if (mechanism != "CURVE") return {false, "", "mechanism must be CURVE"};
  if (curve_key.size() != 32) return {false, "", "CURVE key must be 32 bytes"};
  std::string identity = IdentityOf(curve_key);
  if (!identity.empty()) return {true, identity, ""};
  if (mode_ == Enrollment::kAllowList) return {false, "", "key not on the allow-list"};
  return {true, "curve:" + HexEncode(curve_key), ""};
}

StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(void* context, const PeerDirectory* directory) {
  std::unique_ptr<ZapHandler> h(new ZapHandler());
  h->directory_ = directory;
  h->socket_ = zmq_socket(context, ZMQ_REP);
  if (h->socket_ == nullptr) return ZmqError("zmq_socket(ZAP)");
  int linger = 0;
  zmq_setsockopt(h->socket_, ZMQ_LINGER, &linger, sizeof(linger));
  if (zmq_bind(h->socket_, kZapEndpoint) != 0) {
    Status s = ZmqError(std::string("zmq_bind ") + kZapEndpoint);
    zmq_close(h->socket_);
    h->socket_ = nullptr;
    return s;
  }
  h->thread_ = std::thread([raw = h.get()] { raw->Loop(); });
  return h;
}

ZapHandler::~ZapHandler() {
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::Loop() {
  for (;;) {
    std::vector<std::string> frames;
    bool more = true;
    while (more) {
      zmq_msg_t msg;
      zmq_msg_init(&msg);
      if (zmq_msg_recv(&msg, socket_, 0) < 0) {
        int e = zmq_errno();
        zmq_msg_close(&msg);
        if (e == EINTR) continue;
        zmq_close(socket_);  // ETERM: the context is shutting down
        return;
      }
      if (frames.size() < 16) frames.emplace_back(static_cast<char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
      more = zmq_msg_more(&msg) != 0;
      zmq_msg_close(&msg);
    }
    // Request: version, request id, domain, address, identity, mechanism, credentials...
    std::string request_id = frames.size() > 1 ? frames[1] : "";
    ZapVerdict verdict;
    std::string curve_key;
    if (frames.size() < 6 || frames[0] != "1.0") {
      verdict = {false, "", "malformed ZAP request"};
    } else {
      curve_key = frames.size() > 6 ? frames[6] : "";
      verdict = directory_->Check(frames[5], curve_key);
    }
    std::string metadata = verdict.accepted ? Metadata("X-Curve-Key", HexEncode(curve_key)) : "";
    std::string code = verdict.accepted ? "200" : "400";
    std::string text = verdict.accepted ? "OK" : verdict.reason;
    const std::string* reply[] = {nullptr, &request_id, &code, &text, &verdict.user_id, &metadata};
    static const std::string kVersion = "1.0";
    reply[0] = &kVersion;
    for (int i = 0; i < 6; ++i) {
      zmq_send(socket_, reply[i]->data(), reply[i]->size(), i < 5 ? ZMQ_SNDMORE : 0);
    }
    if (verdict.accepted) {
      accepted_.fetch_add(1);
    } else {
      refused_.fetch_add(1);
      CAIRN_LOG_DEBUG("ZAP refused a peer: {}", verdict.reason);
    }
  }
}

}  // namespace cairn::wire
