#include "runtime/wire/base_handlers.h"

#include "runtime/base/log.h"
#include "runtime/wire/hello.h"

namespace cairn::wire {

BaseHandlers::BaseHandlers(WireServer* server, const Clock* clock, BusSettings settings)
    : clock_(clock), settings_(settings) {
  server->On<WorkerHello>([this](const Peer& p, const WorkerHello& m) { return OnHello(p, m); });
  server->On<Heartbeat>([this](const Peer& p, const Heartbeat& m) { return OnHeartbeat(p, m); });
  server->On<ClientRequest>([this](const Peer& p, const ClientRequest& m) { return OnClientRequest(p, m); });
}

std::string BaseHandlers::IdentityOf(const Peer& peer) const {
  auto it = identity_by_routing_id_.find(peer.routing_id);
  return it != identity_by_routing_id_.end() ? it->second : peer.user_id;
}

HandlerResult BaseHandlers::OnHello(const Peer& peer, const WorkerHello& hello) {
  RETURN_IF_ERROR(VerifyWorkerHello(hello, peer.curve_key, *clock_));
  ASSIGN_OR_RETURN(Ed25519PublicKey key, Ed25519PublicKey::FromBytes(hello.identity_key));
  if (identity_by_routing_id_.size() >= 100000 && !identity_by_routing_id_.count(peer.routing_id)) {
    return ResourceExhaustedError("too many connections with a proven identity");
  }
  if (hello_hook_) RETURN_IF_ERROR(hello_hook_(peer, hello, key.KeyId()));
  identity_by_routing_id_[peer.routing_id] = key.KeyId();
  CAIRN_LOG_INFO("worker {} ('{}', {} devices, {} task slots) said hello", key.KeyId(), hello.name,
                 hello.devices.size(), hello.max_tasks);
  return std::optional<Outgoing>(
      MakeOutgoing(Welcome{key.KeyId(), settings_.heartbeat_interval_millis, settings_.heartbeat_liveness}));
}

HandlerResult BaseHandlers::OnHeartbeat(const Peer& peer, const Heartbeat& hb) {
  if (heartbeat_hook_) RETURN_IF_ERROR(heartbeat_hook_(peer, hb, IdentityOf(peer)));
  Heartbeat reply{++sequence_, clock_->NowUnixMillis(), 0, {}, {}};
  if (challenges_for_) reply.challenges = challenges_for_(IdentityOf(peer));
  return std::optional<Outgoing>(MakeOutgoing(reply));
}

HandlerResult BaseHandlers::OnClientRequest(const Peer& peer, const ClientRequest& req) {
  ClientReply reply;
  reply.request_id = req.request_id;
  if (req.deadline_unix_millis != 0 && req.deadline_unix_millis < clock_->NowUnixMillis()) {
    reply.body = ErrorReply{static_cast<uint16_t>(StatusCode::kDeadlineExceeded),
                            "request arrived after its deadline", req.request_id};
  } else if (const auto* ping = std::get_if<PingBody>(&req.body)) {
    reply.body = PongBody{ping->payload};
  } else if (std::holds_alternative<WhoamiBody>(req.body)) {
    reply.body = WhoamiReplyBody{IdentityOf(peer)};
  } else if (client_verbs_) {
    return client_verbs_(peer, req);
  } else {
    reply.body = ErrorReply{static_cast<uint16_t>(StatusCode::kUnimplemented),
                            "this endpoint does not serve that request", req.request_id};
  }
  return std::optional<Outgoing>(MakeOutgoing(reply));
}

}  // namespace cairn::wire
