// Binding an httplib server with a listen backlog that fits real load.
// Debian's cpp-httplib is built with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG
// is compiled into the shared library): when more clients connect at once
// than the accept thread takes in time, Linux drops the handshake's last ACK
// and the client's first read fails about a second later (httplib's `Read`
// error; counted as TcpExtListenOverflows). Clients' connection bursts (32
// tritonclient connections, a gateway's pool) hit it. BindHttpServer binds as
// httplib does, then listens again with `backlog` (Linux applies the new one).
// It also sets SO_REUSEADDR where httplib sets SO_REUSEPORT, so a port that
// another server holds is refused instead of silently shared.
// Thread safety: call before the server's listen thread starts.
#ifndef CAIRN_RUNTIME_BASE_HTTP_LISTEN_H_
#define CAIRN_RUNTIME_BASE_HTTP_LISTEN_H_

#include <string>

namespace httplib {
class Server;
}

namespace cairn {

inline constexpr int kHttpListenBacklog = 1024;

// `port` 0: any free port. Returns the bound port, or -1 when it cannot bind.
int BindHttpServer(httplib::Server* server, const std::string& host, int port, int backlog = kHttpListenBacklog);

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_HTTP_LISTEN_H_
