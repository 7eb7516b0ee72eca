// Test support: a real data plane on loopback (ledger data dir, dataset
// registry, the HTTP routes on an OS-chosen port) in a temporary directory,
// and a helper that registers a dataset the way `cairn dataset add` does.
// Thread safety: construct and use from one test thread; the server runs
// on its own thread until destruction.
#ifndef CAIRN_DATA_LOOPBACK_DATA_PLANE_H_
#define CAIRN_DATA_LOOPBACK_DATA_PLANE_H_

#include <memory>
#include <string>
#include <thread>

#include <httplib.h>

#include "data/builder.h"
#include "data/dataset_registry.h"
#include "runtime/base/temp_dir.h"
#include "runtime/crypto/ed25519.h"

namespace cairn::data {

class LoopbackDataPlane {
 public:
  LoopbackDataPlane();  // aborts the test binary if the plane cannot start
  ~LoopbackDataPlane();
  int port() const { return port_; }
  const std::string& dir() const { return dir_.path(); }
  ledger::Log& log() { return *log_; }
  DatasetRegistry& registry() { return *registry_; }

  // The signed datasetRegistered entry for `m` by `key`.
  static std::string SignedEntry(const Ed25519PrivateKey& key, const Manifest& m);
  // Builds, uploads and registers PATH as `name`; returns its manifest.
  StatusOr<Manifest> Add(const std::string& path, Format format, const std::string& name,
                         uint64_t price_per_1k_micros = 10);

 private:
  ScopedTempDir dir_;
  std::unique_ptr<ledger::Log> log_;
  std::unique_ptr<DatasetRegistry> registry_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace cairn::data

#endif  // CAIRN_DATA_LOOPBACK_DATA_PLANE_H_
