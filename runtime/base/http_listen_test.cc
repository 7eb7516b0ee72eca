// The listen backlog is what BindHttpServer asks for, not httplib's 5:
// with nobody accepting, 64 clients still complete their handshakes (and
// with httplib's own binding, most of them cannot).
#include "runtime/base/http_listen.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>

namespace cairn {
namespace {

// How many of `n` non-blocking connects to 127.0.0.1:port complete within
// the deadline while nobody accepts.
int Handshakes(int port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    fds.push_back(fd);
  }
  int done = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  std::vector<bool> connected(fds.size(), false);
  while (done < n && std::chrono::steady_clock::now() < deadline) {
    for (size_t i = 0; i < fds.size(); ++i) {
      if (connected[i]) continue;
      pollfd p{fds[i], POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof(err);
      if (::poll(&p, 1, 0) == 1 && ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        connected[i] = true;
        ++done;
      }
    }
    ::poll(nullptr, 0, 10);
  }
  for (int fd : fds) ::close(fd);
  return done;
}

TEST(HttpListen, TheBacklogHoldsABurstOfConnections) {
  httplib::Server wide;
  const int port = BindHttpServer(&wide, "127.0.0.1", 0);
  ASSERT_GT(port, 0);
  EXPECT_EQ(Handshakes(port, 64), 64);

  httplib::Server narrow;  // httplib's own: a backlog of 5
  const int narrow_port = narrow.bind_to_any_port("127.0.0.1");
  ASSERT_GT(narrow_port, 0);
  EXPECT_LT(Handshakes(narrow_port, 64), 64) << "httplib's backlog grew: BindHttpServer may no longer be needed";
}

TEST(HttpListen, AGivenPortIsUsedOrRefused) {
  httplib::Server first;
  const int port = BindHttpServer(&first, "127.0.0.1", 0);
  ASSERT_GT(port, 0);
  httplib::Server second;
  EXPECT_EQ(BindHttpServer(&second, "127.0.0.1", port), -1) << "the port is taken";
}

}  // namespace
}  // namespace cairn
