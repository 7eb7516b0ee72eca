// The client side of the data plane (http_api.h): what `cairn dataset add`
// uses to upload and register, and what a worker uses to fetch exactly the
// chunks it trains on. Every fetched blob is hashed before use and kept in a
// local content-addressed cache, so a chunk crosses the network once per
// machine; a manifest is trusted only if its chunk hashes have the Merkle
// root it claims.
// Thread safety: one DataClient per thread (it holds an HTTP connection).
#ifndef CAIRN_DATA_DATA_CLIENT_H_
#define CAIRN_DATA_DATA_CLIENT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/blob_store.h"
#include "data/manifest.h"
#include "runtime/base/clock.h"

namespace httplib { class Client; }

namespace cairn::data {

class DataClient {
 public:
  // host:port of the coordinator's HTTP port; cache_dir may be empty (no cache).
  DataClient(const std::string& host, int port, const std::string& cache_dir);
  ~DataClient();

  // Reads (GETs, and blob uploads, which are idempotent by content) that
  // fail with Unavailable — the coordinator restarting, a network blip — are
  // tried again with backoff (0.2 s doubling to 5 s) for up to `budget_ms`
  // of `clock` time; then the Unavailable error is returned. 0 (the
  // default): no retries.
  void SetRetry(const Clock* clock, int64_t budget_ms);

  // A JSON document from the coordinator's HTTP port (e.g.
  // "/jobs/ID/checkpoint"): the body, or the reply's error as a Status
  // (404 NotFound, 503 Unavailable, ...).
  StatusOr<std::string> GetJson(const std::string& path);

  // Uploads the blobs the server lacks. progress(done, total, bytes_sent).
  Status UploadAll(const std::vector<std::string>& blobs,
                   const std::function<void(size_t, size_t, uint64_t)>& progress = nullptr);
  Status PutBlob(const std::string& bytes);
  // Fetches, verifies and caches a blob.
  StatusOr<std::string> GetBlob(const Sha256Digest& hash);
  // Registers; returns the ledger index.
  StatusOr<uint64_t> Register(const Manifest& manifest, const std::string& signed_entry);
  // The manifest, verified against its own dataset_id.
  StatusOr<Manifest> GetManifest(const std::string& name_or_id);
  // The raw JSON list of registered datasets.
  StatusOr<std::string> ListJson();

  uint64_t bytes_fetched() const { return bytes_fetched_; }
  uint64_t cache_hits() const { return cache_hits_; }

 private:
  // Runs `call` until it returns anything but Unavailable or the retry
  // budget is spent.
  template <typename T, typename F>
  T Retrying(F call);

  std::unique_ptr<httplib::Client> http_;
  const Clock* clock_ = nullptr;
  int64_t retry_budget_ms_ = 0;
  std::string where_;
  std::optional<BlobStore> cache_;
  uint64_t bytes_fetched_ = 0, cache_hits_ = 0;
};

}  // namespace cairn::data

#endif  // CAIRN_DATA_DATA_CLIENT_H_
