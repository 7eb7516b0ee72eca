// CoordinatorHttpClient: what client tools (`cairn accounts | keys api |
// models`, key pinning) ask the coordinator's HTTP port: JSON documents,
// requests signed with the caller's identity (the accounts API,
// runtime/crypto/request_signature.h), the coordinator's CURVE key, and
// blobs (verified against their hash). Errors carry the code of the HTTP
// status (400 InvalidArgument, 401 Unauthenticated, 402 ResourceExhausted,
// 403 PermissionDenied, 404 NotFound, 409 AlreadyExists, 503 Unavailable)
// and the server's message; no answer at all is Unavailable.
// Thread safety: one thread at a time.
#ifndef CAIRN_COORDINATOR_HTTP_CLIENT_H_
#define CAIRN_COORDINATOR_HTTP_CLIENT_H_

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/base/clock.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/crypto/sha256.h"

namespace httplib {
class Client;
}

namespace cairn::coordinator {

class CoordinatorHttpClient {
 public:
  CoordinatorHttpClient(const std::string& host, int port);
  ~CoordinatorHttpClient();

  StatusOr<nlohmann::json> GetJson(const std::string& path);
  // GET or POST `path`, signed by `signer` when given.
  StatusOr<nlohmann::json> Call(const std::string& method, const std::string& path, const std::string& body,
                                const Ed25519PrivateKey* signer, const Clock* clock = Clock::System());
  // The coordinator's CURVE public key as it presents it (hex; unverified:
  // the caller pins it).
  StatusOr<std::string> CoordinatorKeyHex();
  StatusOr<std::string> Blob(const Sha256Digest& hash);

 private:
  std::string host_;
  int port_;
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_HTTP_CLIENT_H_
