// The coordinator's data-plane HTTP routes (beside the ledger read API):
//   HEAD/GET /blobs/<sha256 hex>   a chunk, manifest, checkpoint or model
//   PUT      /blobs/<sha256 hex>   upload; refused unless the body hashes to
//                                  the path (so uploads cannot poison data);
//                                  at most kMaxBlobBytes
//   POST     /datasets             {"manifest": {...}, "entry": "<base64>"}:
//                                  register (DatasetRegistry::Register)
//   GET      /datasets             [{name, id, contributor, ledger_index}]
//   GET      /datasets/<name|id>   the manifest
// Errors are JSON {"error": "..."} with 400/404/409/412/413/500.
// Thread safety: handlers run on httplib's pool; the registry is thread-safe.
#ifndef CAIRN_DATA_HTTP_API_H_
#define CAIRN_DATA_HTTP_API_H_

#include <httplib.h>

#include "data/dataset_registry.h"

namespace cairn::data {


void InstallDataApi(httplib::Server* server, DatasetRegistry* registry);

// The HTTP status for a Status code (shared by the data client's errors).
int HttpStatusFor(const Status& s);

}  // namespace cairn::data

#endif  // CAIRN_DATA_HTTP_API_H_
