#include "data/loopback_data_plane.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "data/data_client.h"
#include "data/http_api.h"
#include "ledger/data_dir.h"
#include "ledger/entry.h"

namespace cairn::data {
namespace {

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "LoopbackDataPlane: %s: %s\n", what, s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

LoopbackDataPlane::LoopbackDataPlane() {
  Check(ledger::InitDataDir(dir_.path() + "/ledger", "test.cairn/log"), "init ledger");
  auto log = ledger::OpenDataDir(dir_.path() + "/ledger");
  Check(log.status(), "open ledger");
  log_ = std::move(*log);
  auto reg = DatasetRegistry::Open(dir_.path() + "/coord");
  Check(reg.status(), "open registry");
  registry_ = std::move(*reg);
  registry_->SetLedger(log_.get());
  InstallDataApi(&server_, registry_.get());
  port_ = server_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

LoopbackDataPlane::~LoopbackDataPlane() {
  server_.stop();
  thread_.join();
}

std::string LoopbackDataPlane::SignedEntry(const Ed25519PrivateKey& key, const Manifest& m) {
  auto e = SignDatasetRegistration(key, m, 1764000000000);
  Check(e.status(), "sign datasetRegistered");
  return *e;
}

StatusOr<Manifest> LoopbackDataPlane::Add(const std::string& path, Format format, const std::string& name,
                                          uint64_t price_per_1k_micros) {
  ASSIGN_OR_RETURN(BuiltDataset built, BuildDataset(path, format));
  built.manifest.name = name;
  built.manifest.license = "MIT";
  built.manifest.price_per_1k_micros = price_per_1k_micros;
  DataClient client("127.0.0.1", port_, "");
  RETURN_IF_ERROR(client.UploadAll(built.chunks));
  ASSIGN_OR_RETURN(Ed25519PrivateKey key, Ed25519PrivateKey::Generate());
  RETURN_IF_ERROR(client.Register(built.manifest, SignedEntry(key, built.manifest)).status());
  return built.manifest;
}

}  // namespace cairn::data
