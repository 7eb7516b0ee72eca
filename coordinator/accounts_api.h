// Account operations on the coordinator's HTTP port (requests signed with
// the caller's identity, runtime/crypto/request_signature.h; a replayed
// signature is refused):
//   POST /accounts/credit  {"account": HEX, "amount_micros": N, "memo"}
//        the operator only (the log key): appends accountCredited
//   POST /api-keys         {"name"}  a new API key for the signer's account
//   GET  /accounts/HEX     available credits and what the account earned
// Errors are {"error": "message"} with 400, 401, 403 or 404.
// Thread safety: handlers run on httplib's pool; the Coordinator's methods
// they call are thread-safe.
#ifndef CAIRN_COORDINATOR_ACCOUNTS_API_H_
#define CAIRN_COORDINATOR_ACCOUNTS_API_H_

namespace httplib {
class Server;
}

namespace cairn::coordinator {

class Coordinator;
void InstallAccountsApi(httplib::Server* http, Coordinator* coordinator);

}  // namespace cairn::coordinator

#endif  // CAIRN_COORDINATOR_ACCOUNTS_API_H_
