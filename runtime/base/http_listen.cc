#include "runtime/base/http_listen.h"

#include <sys/socket.h>

#include <memory>

#include <httplib.h>

namespace cairn {

int BindHttpServer(httplib::Server* server, const std::string& host, int port, int backlog) {
  auto fd = std::make_shared<int>(-1);  // the last socket httplib made: the one it bound
  server->set_socket_options([fd](socket_t sock) {
    // SO_REUSEADDR alone: a restarted server rebinds past TIME_WAIT, and a
    // second one on a taken port fails (httplib's SO_REUSEPORT would let two
    // coordinators share a port and split its connections).
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *fd = sock;
  });
  const int bound = port == 0 ? server->bind_to_any_port(host) : (server->bind_to_port(host, port) ? port : -1);
  if (bound > 0 && *fd >= 0) ::listen(*fd, backlog);
  return bound;
}

}  // namespace cairn
