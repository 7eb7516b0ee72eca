// The ledger's read API over HTTP, for auditors and transparency-log tools:
//   GET /checkpoint                      signed checkpoint note (text/plain)
//   GET /tile/<L>/<N>[.p/<W>]            hash tiles, exactly as C2SP tlog-tiles
//   GET /tile/entries/<N>[.p/<W>]        entry bundles (uint16 big-endian length + entry, each)
//   GET /entry/<i>                       JSON: one entry decoded, with its inclusion
//                                        proof against the checkpoint returned with it
//   GET /proof/consistency?from=A[&to=B] JSON: consistency proof (to = current size)
//   GET /vkey                            the log's signed-note verifier key (text)
// Tiles and bundles are immutable for a given path and are served with
// "Cache-Control: public, max-age=31536000, immutable"; the checkpoint with
// "no-cache". Bad requests get 400, missing things 404, both with a JSON
// {"error": "..."} body.
// Thread safety: handlers run on httplib's threads; Log is thread-safe.
#ifndef CAIRN_LEDGER_HTTP_API_H_
#define CAIRN_LEDGER_HTTP_API_H_

namespace httplib {
class Server;
}

namespace cairn::ledger {

class Log;

// Registers the handlers; `log` must outlive `server`'s use of them.
void InstallReadApi(httplib::Server* server, Log* log);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_HTTP_API_H_
