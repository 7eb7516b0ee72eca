// How the CLI reaches a coordinator: address resolution (--coordinator,
// CAIRN_COORDINATOR, default localhost:7450), the coordinator's CURVE key
// (--coordinator-key, or learned on first contact from its HTTP port and
// pinned in $CAIRN_HOME/known_coordinators, like SSH known_hosts: a changed
// key is refused with a clear error), and the caller's identity
// ($CAIRN_HOME/identity.key, created on first use).
#ifndef CAIRN_CLI_COORDINATOR_CLIENT_H_
#define CAIRN_CLI_COORDINATOR_CLIENT_H_

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "runtime/crypto/ed25519.h"
#include "runtime/wire/client.h"

namespace cairn::cli {

struct CoordinatorAddress {
  std::string address;  // as given: HOST[:PORT]
  std::string key_hex;  // --coordinator-key
  int http_port = 7480;
};

// Adds --coordinator, --coordinator-key and --coordinator-http to `cmd`.
void AddCoordinatorOptions(CLI::App* cmd, CoordinatorAddress* addr);

struct Connection {
  std::unique_ptr<wire::WireContext> context;
  std::unique_ptr<wire::WireClient> client;
  std::string endpoint;  // tcp://host:port
  std::string curve_key;
  uint64_t next_request = 1;
  StatusOr<wire::ClientReply> Call(decltype(wire::ClientRequest::body) body, int timeout_ms = 10000);
};

// The user's identity, created (mode 0600) if there is none yet.
StatusOr<Ed25519PrivateKey> LoadOrCreateIdentity();
// Resolves the address and the pinned key; connects as `identity`.
StatusOr<Connection> ConnectToCoordinator(const CoordinatorAddress& addr, const Ed25519PrivateKey& identity);
// The coordinator's HTTP host and port (data plane, ledger API).
std::pair<std::string, int> CoordinatorHttp(const CoordinatorAddress& addr);
// Resolves the coordinator's CURVE key only (for `cairn worker`).
StatusOr<std::pair<std::string, std::string>> ResolveCoordinator(const CoordinatorAddress& addr);

// The reply's body as a T, or the error it carries.
template <typename T>
StatusOr<T> Expect(StatusOr<wire::ClientReply> r) {
  if (!r.ok()) return r.status();
  if (const T* v = std::get_if<T>(&r->body)) return *v;
  return InternalError("the coordinator answered something unexpected");
}

// Prints a job's log lines until it ends (follow) or until now; its status then.
StatusOr<wire::JobInfo> StreamLogs(Connection& c, const std::string& job, bool follow);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_COORDINATOR_CLIENT_H_
