#include "coordinator/rendezvous.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace cairn::coordinator {

struct RendezvousHost::Store {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

RendezvousHost::RendezvousHost() = default;
RendezvousHost::~RendezvousHost() = default;

StatusOr<int> RendezvousHost::Open(const std::string& job_id, uint32_t attempt) {
  const std::string key = job_id + "#" + std::to_string(attempt);
  MutexLock lock(&mu_);
  auto it = stores_.find(key);
  if (it != stores_.end()) return static_cast<int>(it->second->store->getPort());
  c10d::TCPStoreOptions opts;
  opts.port = 0;
  opts.isServer = true;
  opts.waitWorkers = false;
  opts.timeout = std::chrono::minutes(10);
  try {
    auto s = std::make_unique<Store>();
    s->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
    const int port = s->store->getPort();
    stores_[key] = std::move(s);
    return port;
  } catch (const std::exception& e) {
    return UnavailableError(std::string("cannot start the rendezvous store: ") + e.what());
  }
}

void RendezvousHost::Close(const std::string& job_id) {
  MutexLock lock(&mu_);
  for (auto it = stores_.begin(); it != stores_.end();) {
    if (it->first.compare(0, job_id.size() + 1, job_id + "#") == 0) {
      it = stores_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace cairn::coordinator
