#include "worker/devices.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "kernels/device_info.h"

namespace cairn::worker {

StatusOr<std::vector<wire::Device>> DetectDevices(const std::string& want) {
  if (want != "auto" && want != "cpu" && want != "cuda") {
    return InvalidArgumentError("--devices must be auto, cpu or cuda, got '" + want + "'");
  }
  std::vector<wire::Device> out;
  if (want == "auto" || want == "cuda") {
    ASSIGN_OR_RETURN(auto gpus, kernels::ListCudaDevices());
    for (const auto& g : gpus) {
      out.push_back(wire::Device{wire::DeviceKind::kCuda, g.name.substr(0, 120), g.memory_bytes,
                                 static_cast<uint32_t>(g.multiprocessors),
                                 std::to_string(g.major) + "." + std::to_string(g.minor)});
    }
    if (want == "cuda" && out.empty()) return FailedPreconditionError("--devices cuda, but no CUDA device is visible");
  }
  if (out.empty()) {
    uint64_t mem = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(sysconf(_SC_PAGE_SIZE));
    out.push_back(wire::Device{wire::DeviceKind::kCpu, "cpu", mem, std::max(1u, std::thread::hardware_concurrency()), ""});
  }
  return out;
}

std::string LocalAddressToward(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return "";
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);
  std::string out;
  if (::inet_pton(AF_INET, host.c_str(), &to.sin_addr) == 1 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0) {
    sockaddr_in me{};
    socklen_t len = sizeof(me);
    char buf[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len) == 0 &&
        ::inet_ntop(AF_INET, &me.sin_addr, buf, sizeof(buf)) != nullptr) {
      out = buf;
    }
  }
  ::close(fd);
  return out;
}

}  // namespace cairn::worker
