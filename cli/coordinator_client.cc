#include "cli/coordinator_client.h"

#include <chrono>
#include <cstdio>
#include <thread>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "coordinator/http_client.h"

#include "runtime/base/encoding.h"
#include "runtime/crypto/key_file.h"

namespace cairn::cli {
namespace {

std::pair<std::string, int> SplitHostPort(const std::string& address, int default_port) {
  std::string a = address;
  if (a.rfind("tcp://", 0) == 0) a = a.substr(6);
  size_t colon = a.rfind(':');
  if (colon == std::string::npos) return {a, default_port};
  return {a.substr(0, colon), std::atoi(a.c_str() + colon + 1)};
}

std::string KnownFile() { return CairnHome() + "/known_coordinators"; }

}  // namespace

void AddCoordinatorOptions(CLI::App* cmd, CoordinatorAddress* addr) {
  cmd->add_option("--coordinator", addr->address, "Coordinator HOST[:PORT] (default $CAIRN_COORDINATOR or localhost:7450)");
  cmd->add_option("--coordinator-key", addr->key_hex, "The coordinator's CURVE public key (hex); default: pinned on first use");
  cmd->add_option("--coordinator-http", addr->http_port, "The coordinator's HTTP port, to learn its key on first use")
      ->capture_default_str();
}

StatusOr<Ed25519PrivateKey> LoadOrCreateIdentity() {
  std::string path = DefaultKeyPath();
  auto key = LoadKeyFile(path);
  if (key.ok() || key.status().code() != StatusCode::kNotFound) return key;
  ASSIGN_OR_RETURN(Ed25519PrivateKey fresh, Ed25519PrivateKey::Generate());
  RETURN_IF_ERROR(SaveKeyFile(fresh, path, false));
  std::fprintf(stderr, "created your identity %s in %s\n", fresh.public_key().KeyId().c_str(), path.c_str());
  return fresh;
}

std::pair<std::string, int> CoordinatorHttp(const CoordinatorAddress& addr) {
  std::string address = addr.address;
  if (address.empty()) {
    const char* env = std::getenv("CAIRN_COORDINATOR");
    address = env != nullptr && *env != '\0' ? env : "localhost:7450";
  }
  std::string host = SplitHostPort(address, 7450).first;
  return {host == "localhost" || host.empty() ? std::string("127.0.0.1") : host, addr.http_port};
}

StatusOr<std::pair<std::string, std::string>> ResolveCoordinator(const CoordinatorAddress& addr) {
  std::string address = addr.address;
  if (address.empty()) {
    const char* env = std::getenv("CAIRN_COORDINATOR");
    address = env != nullptr && *env != '\0' ? env : "localhost:7450";
  }
  auto [host, port] = SplitHostPort(address, 7450);
  if (host.empty() || port <= 0 || port > 65535) return InvalidArgumentError("bad coordinator address '" + address + "'");
  std::string endpoint = "tcp://" + (host == "localhost" ? std::string("127.0.0.1") : host) + ":" + std::to_string(port);
  std::string name = host + ":" + std::to_string(port);
  if (!addr.key_hex.empty()) {
    auto key = HexDecode(addr.key_hex);
    if (!key.ok() || key->size() != 32) return InvalidArgumentError("--coordinator-key must be 64 hex digits");
    return std::make_pair(endpoint, *key);
  }
  // Pinned?
  std::string pinned;
  {
    std::ifstream in(KnownFile());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      std::istringstream ss(line);
      std::string h, k;
      if (ss >> h >> k && h == name) pinned = k;
    }
  }
  // Learn it from the coordinator's HTTP port (trust on first use).
  std::string seen = coordinator::CoordinatorHttpClient(host, addr.http_port).CoordinatorKeyHex().value_or("");
  if (!pinned.empty()) {
    if (!seen.empty() && seen != pinned) {
      return PermissionDeniedError("the coordinator at " + name + " now presents key " + seen + ", but " + KnownFile() +
                                   " pins " + pinned + ". If you trust the change, remove that line and retry.");
    }
    auto key = HexDecode(pinned);
    if (!key.ok() || key->size() != 32) return DataLossError(KnownFile() + ": bad key for " + name);
    return std::make_pair(endpoint, *key);
  }
  if (seen.empty()) {
    return UnavailableError("cannot learn the coordinator's key from http://" + host + ":" +
                            std::to_string(addr.http_port) + "/coordinator-key; pass --coordinator-key");
  }
  auto key = HexDecode(seen);
  if (!key.ok() || key->size() != 32) return DataLossError("the coordinator sent a malformed key");
  std::ofstream out(KnownFile(), std::ios::app);
  out << name << " " << seen << "\n";
  std::fprintf(stderr, "pinned coordinator %s key %s in %s\n", name.c_str(), seen.c_str(), KnownFile().c_str());
  return std::make_pair(endpoint, *key);
}

StatusOr<Connection> ConnectToCoordinator(const CoordinatorAddress& addr, const Ed25519PrivateKey& identity) {
  ASSIGN_OR_RETURN(auto resolved, ResolveCoordinator(addr));
  Connection c;
  c.endpoint = resolved.first;
  c.curve_key = resolved.second;
  ASSIGN_OR_RETURN(c.context, wire::WireContext::Create(wire::Enrollment::kOpen));
  ASSIGN_OR_RETURN(wire::CurveKeyPair keys, wire::CurveKeysOf(identity));
  ASSIGN_OR_RETURN(c.client, wire::WireClient::Connect(c.context.get(), wire::ClientOptions{c.endpoint, c.curve_key, keys}));
  return c;
}

StatusOr<wire::ClientReply> Connection::Call(decltype(wire::ClientRequest::body) body, int timeout_ms) {
  auto r = client->Call(wire::ClientRequest{next_request++, 0, std::move(body)}, timeout_ms);
  if (!r.ok() && r.status().code() == StatusCode::kDeadlineExceeded) {
    return UnavailableError("no answer from the coordinator at " + endpoint + " within " + std::to_string(timeout_ms) +
                            " ms (is it running?)");
  }
  if (!r.ok() && (r.status().code() == StatusCode::kPermissionDenied ||
                  r.status().code() == StatusCode::kUnauthenticated)) {
    return r.status().WithContext("coordinator " + endpoint);
  }
  return r;
}

StatusOr<wire::JobInfo> StreamLogs(Connection& c, const std::string& job, bool follow) {
  uint64_t next = 0;
  for (;;) {
    ASSIGN_OR_RETURN(wire::LogsChunk chunk, Expect<wire::LogsChunk>(c.Call(wire::JobLogsBody{job, next})));
    for (const auto& line : chunk.lines) std::printf("%s\n", line.c_str());
    std::fflush(stdout);
    next = chunk.next_line;
    if (!follow || chunk.finished) break;
    if (chunk.lines.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return Expect<wire::JobInfo>(c.Call(wire::JobStatusBody{job}));
}


}  // namespace cairn::cli
