#include "tests/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace cairn::testing {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

TcpProxy::TcpProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a = Loopback(0);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  SetDown(true);  // closes what is open
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> relays;
  {
    std::lock_guard<std::mutex> l(mu_);
    relays.swap(relays_);
  }
  for (auto& t : relays) t.join();
}

void TcpProxy::SetDown(bool down) {
  // Under mu_, so a connection accepted just before the cut is either in
  // open_ (and shut down here) or sees down_ when it registers.
  std::lock_guard<std::mutex> l(mu_);
  down_ = down;
  if (!down) return;
  for (int fd : open_) ::shutdown(fd, SHUT_RDWR);  // the relay threads see EOF and close
}

void TcpProxy::AcceptLoop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard<std::mutex> l(mu_);
    if (down_) {  // unreachable: the connection is reset at once
      linger lg{1, 0};
      ::setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      ::close(client);
      refused_.fetch_add(1);
      continue;
    }
    open_.insert(client);
    relays_.emplace_back([this, client] { Relay(client); });
  }
}

void TcpProxy::Relay(int client) {
  int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = Loopback(target_port_);
  const bool connected = ::connect(upstream, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!connected || down_) {  // cut while connecting: nothing gets through
      if (down_) refused_.fetch_add(1);
      open_.erase(client);
      ::close(upstream);
      ::close(client);
      return;
    }
    open_.insert(upstream);
  }
  pollfd fds[2] = {{client, POLLIN, 0}, {upstream, POLLIN, 0}};
  char buf[65536];
  bool open = true;
  while (open && !stop_) {
    if (::poll(fds, 2, 100) <= 0) continue;
    for (int i = 0; i < 2 && open; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buf, sizeof(buf), 0);
      if (n <= 0 || ::send(fds[1 - i].fd, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) open = false;
    }
  }
  if (down_) refused_.fetch_add(1);
  {
    std::lock_guard<std::mutex> l(mu_);
    open_.erase(client);
    open_.erase(upstream);
  }
  ::close(client);
  ::close(upstream);
}

}  // namespace cairn::testing
