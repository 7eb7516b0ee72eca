// TcpProxy: a TCP relay on loopback that a test can cut, to make a real
// network fault between real processes (a service "unreachable for a few
// seconds"). While down it refuses new connections and has closed the
// ones it was relaying; when up again it relays as before.
// Thread safety: SetDown and port from any thread.
#ifndef CAIRN_TESTS_TCP_PROXY_H_
#define CAIRN_TESTS_TCP_PROXY_H_

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace cairn::testing {

class TcpProxy {
 public:
  // Relays 127.0.0.1:port() to 127.0.0.1:target_port.
  explicit TcpProxy(int target_port);
  ~TcpProxy();
  int port() const { return port_; }
  void SetDown(bool down);
  // Connections refused or cut while down.
  int refused() const { return refused_.load(); }

 private:
  void AcceptLoop();
  void Relay(int client);

  const int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> down_{false}, stop_{false};
  std::atomic<int> refused_{0};
  std::mutex mu_;
  std::set<int> open_;                 // relayed sockets, guarded by mu_
  std::vector<std::thread> relays_;    // guarded by mu_
  std::thread acceptor_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_TCP_PROXY_H_
