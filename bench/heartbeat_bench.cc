// Heartbeats handled per second by the coordinator from 1,000 simulated
// worker connections on loopback (target >= 50,000/s on this 2-core
// machine). Each connection is a real CURVE DEALER socket with its own
// identity that said hello first; the coordinator verifies, decodes and
// applies every heartbeat to its liveness table and answers it.
// Baseline in the same run: a bare CURVE ROUTER that only counts the same
// frames (no decoding, no handler, no reply).
// Usage: heartbeat_bench [CONNECTIONS] [HEARTBEATS_PER_CONNECTION]
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <zmq.h>

#include "runtime/wire/socket.h"

#include "runtime/base/allocator.h"
#include "runtime/base/log.h"
#include "runtime/base/temp_dir.h"
#include "runtime/wire/client.h"
#include "runtime/wire/hello.h"
#include "coordinator/coordinator.h"

using namespace cairn;

namespace {

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count();
}

struct Fleet {
  std::unique_ptr<wire::WireContext> ctx;
  std::vector<Ed25519PrivateKey> keys;
  std::vector<std::unique_ptr<wire::WireClient>> clients;
};

Fleet Connect(const std::string& endpoint, const std::string& server_key, int n) {
  Fleet f;
  f.ctx = wire::WireContext::Create(wire::Enrollment::kOpen).value();
  for (int i = 0; i < n; ++i) {
    f.keys.push_back(Ed25519PrivateKey::Generate().value());
    f.clients.push_back(wire::WireClient::Connect(f.ctx.get(), wire::ClientOptions{endpoint, server_key,
                                                                                  wire::CurveKeysOf(f.keys.back()).value()})
                            .value());
  }
  return f;
}

// Sends `per` heartbeats on every connection from 2 threads, draining
// replies as it goes; returns when `done()` holds.
double Blast(Fleet& f, int per, const std::function<bool()>& done) {
  std::string hb = wire::Encode(wire::Heartbeat{1, 1, 0, {}, {}});
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < per; ++round) {
        for (size_t i = t; i < f.clients.size(); i += 2) {
          (void)f.clients[i]->Send(wire::MessageType::kHeartbeat, hb);
          while (f.clients[i]->Receive(0).ok()) {
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  while (!done()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 1000;
  int per = argc > 2 ? std::atoi(argv[2]) : 100;
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  (void)InitLogging("warn");
  TuneAllocatorForServers();  // as `cairn coordinator` does (runtime/base/allocator.h); both sides of the ratio run with it

  // Baseline: a bare CURVE ROUTER counting frames.
  double base_rate = 0;
  {
    auto ctx = wire::WireContext::Create(wire::Enrollment::kOpen).value();
    auto key = Ed25519PrivateKey::Generate().value();
    auto keys = wire::CurveKeysOf(key).value();
    wire::ZmqSocket router(ctx->raw(), ZMQ_ROUTER);
    (void)router.SetInt(ZMQ_CURVE_SERVER, 1, "curve");
    (void)router.SetOption(ZMQ_CURVE_SECRETKEY, keys.secret_key.data(), 32, "secret");
    (void)router.SetInt(ZMQ_RCVHWM, 0, "hwm");
    (void)router.Bind("tcp://127.0.0.1:0");
    std::atomic<uint64_t> count{0};
    std::atomic<bool> stop{false};
    std::thread server([&] {
      while (!stop) {
        if (router.Receive(10).ok()) count.fetch_add(1);
      }
    });
    Fleet f = Connect(router.LastEndpoint(), keys.public_key, n);
    // Every handshake done first, as for the coordinator (its hellos).
    for (auto& c : f.clients) (void)c->Send(wire::MessageType::kHeartbeat, "x");
    while (count.load() < static_cast<uint64_t>(n)) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    uint64_t want = static_cast<uint64_t>(n) * per + static_cast<uint64_t>(n);
    double s = Blast(f, per, [&] { return count.load() >= want; });
    want -= static_cast<uint64_t>(n);
    base_rate = static_cast<double>(want) / s;
    stop = true;
    server.join();
    f.clients.clear();
  }

  // The coordinator.
  ScopedTempDir dir("cairn-hb-bench");
  coordinator::CoordinatorOptions o;
  o.data_dir = dir.path() + "/coord";
  o.cluster.heartbeat_interval_ms = 60'000;  // nobody dies during the run
  auto coordinator = coordinator::Coordinator::Start(o).value();
  Fleet f = Connect(coordinator->endpoint(), coordinator->curve_public_key(), n);
  for (int i = 0; i < n; ++i) {
    wire::WorkerHello h;
    h.name = "sim-" + std::to_string(i);
    h.max_tasks = 1;
    h.sent_unix_millis = Clock::System()->NowUnixMillis();
    (void)wire::SignWorkerHello(f.keys[i], &h);
    (void)f.clients[i]->Send(h);
  }
  for (int i = 0; i < n; ++i) (void)f.clients[i]->Receive(10000);  // welcomes
  uint64_t before = coordinator->stats().heartbeats;
  uint64_t want = static_cast<uint64_t>(n) * per;
  double s = Blast(f, per, [&] { return coordinator->stats().heartbeats - before >= want; });
  double rate = static_cast<double>(want) / s;
  std::printf("connections %d, heartbeats %llu\n", n, static_cast<unsigned long long>(want));
  std::printf("coordinator: %.0f heartbeats/s handled (verified sender, decoded, liveness updated, answered)\n", rate);
  std::printf("baseline bare CURVE ROUTER: %.0f frames/s counted\n", base_rate);
  std::printf("ratio %.3f; workers alive %llu\n", rate / base_rate,
              static_cast<unsigned long long>(coordinator->stats().workers_alive));
  f.clients.clear();
  return 0;
}
