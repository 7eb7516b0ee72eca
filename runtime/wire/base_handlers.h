// The handlers every cairn bus endpoint answers from the first day:
//  - WorkerHello: verified (runtime/wire/hello.h), answered with Welcome;
//    the identity it proves is remembered for the connection.
//  - Heartbeat: answered with a Heartbeat (Paranoid Pirate, both directions).
//  - ClientRequest ping: echoed as pong; whoami: the caller's identity.
// The coordinator installs these and adds its own on top.
// Thread safety: BaseHandlers is used from the server's thread only.
#ifndef CAIRN_RUNTIME_WIRE_BASE_HANDLERS_H_
#define CAIRN_RUNTIME_WIRE_BASE_HANDLERS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runtime/base/clock.h"
#include "runtime/wire/server.h"

namespace cairn::wire {

struct BusSettings {
  uint32_t heartbeat_interval_millis = 1000;
  uint32_t heartbeat_liveness = 3;
};

class BaseHandlers {
 public:
  // `server` and `clock` must outlive this object.
  BaseHandlers(WireServer* server, const Clock* clock, BusSettings settings);

  // The identity proven by a hello on this connection, else the ZAP user id.
  std::string IdentityOf(const Peer& peer) const;

  // Serves the client verbs other than ping and whoami (the coordinator's).
  // Without one they are answered UNIMPLEMENTED.
  using ClientVerbs = std::function<HandlerResult(const Peer&, const ClientRequest&)>;
  void SetClientVerbs(ClientVerbs verbs) { client_verbs_ = std::move(verbs); }
  // Called after a hello verified, with the proven identity; an error
  // refuses the hello (the peer gets it instead of a Welcome).
  using HelloHook = std::function<Status(const Peer&, const WorkerHello&, const std::string& identity)>;
  void SetHelloHook(HelloHook hook) { hello_hook_ = std::move(hook); }
  // Called for each heartbeat with the sender's identity; an error is
  // answered to the peer (e.g. NOT_FOUND: say hello again).
  using HeartbeatHook = std::function<Status(const Peer&, const Heartbeat&, const std::string& identity)>;
  void SetHeartbeatHook(HeartbeatHook hook) { heartbeat_hook_ = std::move(hook); }
  // What the heartbeat answered to `identity` lists as its open challenges
  // (docs/verification.md); none without one.
  using ChallengesFor = std::function<std::vector<Challenge>(const std::string& identity)>;
  void SetChallengesFor(ChallengesFor f) { challenges_for_ = std::move(f); }

 private:
  HandlerResult OnHello(const Peer& peer, const WorkerHello& hello);
  HandlerResult OnHeartbeat(const Peer& peer, const Heartbeat& hb);
  HandlerResult OnClientRequest(const Peer& peer, const ClientRequest& req);

  const Clock* clock_;
  BusSettings settings_;
  uint64_t sequence_ = 0;
  std::map<std::string, std::string> identity_by_routing_id_;
  ClientVerbs client_verbs_;
  HelloHook hello_hook_;
  HeartbeatHook heartbeat_hook_;
  ChallengesFor challenges_for_;
};

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_BASE_HANDLERS_H_
