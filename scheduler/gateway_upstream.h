// Internal to the gateway's files (gateway.cc, gateway_forward.cc): one
// replica as the gateway sees it, with its pool of kept-alive connections.
// Thread safety: the atomics and the pool (under pool_mu) from any thread.
#ifndef CAIRN_SCHEDULER_GATEWAY_UPSTREAM_H_
#define CAIRN_SCHEDULER_GATEWAY_UPSTREAM_H_

#include <atomic>
#include <memory>
#include <vector>

#include <httplib.h>

#include "scheduler/gateway.h"

namespace cairn::scheduler {

inline constexpr char kGatewayJson[] = "application/json";
inline constexpr size_t kMaxIdleConnections = 32;  // per replica; each holds one of its server threads

struct Gateway::Upstream {
  ReplicaInfo info;
  std::atomic<int> outstanding{0};
  std::atomic<bool> alive{true};
  Mutex pool_mu;
  std::vector<std::unique_ptr<httplib::Client>> idle GUARDED_BY(pool_mu);

  // A pooled keep-alive connection, or a new one (`*reused` says which).
  std::unique_ptr<httplib::Client> Lease(bool* reused) {
    {
      MutexLock l(&pool_mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        *reused = true;
        return c;
      }
    }
    *reused = false;
    auto c = std::make_unique<httplib::Client>(info.host, info.port);
    c->set_keep_alive(true);
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(2, 0);
    c->set_read_timeout(120, 0);
    c->set_write_timeout(10, 0);
    return c;
  }
  void Return(std::unique_ptr<httplib::Client> c) {
    MutexLock l(&pool_mu);
    if (idle.size() < kMaxIdleConnections) idle.push_back(std::move(c));
  }
};

}  // namespace cairn::scheduler

#endif  // CAIRN_SCHEDULER_GATEWAY_UPSTREAM_H_
