#include "worker/rendezvous_store.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace cairn::worker {

struct RendezvousStore::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

RendezvousStore::~RendezvousStore() = default;

StatusOr<std::unique_ptr<RendezvousStore>> RendezvousStore::Start(int port) {
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(port);
  opts.isServer = true;
  opts.waitWorkers = false;
  opts.timeout = std::chrono::minutes(10);
  std::unique_ptr<RendezvousStore> s(new RendezvousStore());
  s->impl_ = std::make_unique<Impl>();
  try {
    s->impl_->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("cannot start the rendezvous store: ") + e.what());
  }
  s->port_ = static_cast<int>(s->impl_->store->getPort());
  return s;
}

}  // namespace cairn::worker
