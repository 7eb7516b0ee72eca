// cairn demo: the end-to-end path that exists so far, on loopback.
// Today (foundation): identities on disk, a CURVE bus endpoint, a worker's
// signed hello and heartbeats, a client's requests, and a malformed frame
// answered with an error while the endpoint keeps serving.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "cli/commands.h"
#include "runtime/base/clock.h"
#include "runtime/base/temp_dir.h"
#include "runtime/crypto/key_file.h"
#include "runtime/wire/hello.h"
#include "runtime/wire/loopback_bus.h"

namespace cairn::cli {
namespace {

using wire::MessageType;

struct DemoOptions {
  int heartbeats = 5;
  bool keep = false;
};

constexpr int kSteps = 6;
constexpr int kTimeoutMs = 5000;

double MillisSince(int64_t start_nanos) {
  return static_cast<double>(Clock::System()->MonotonicNanos() - start_nanos) / 1e6;
}

void Step(int n, const std::string& what) { std::printf("[%d/%d] %s\n", n, kSteps, what.c_str()); }

StatusOr<wire::Incoming> Expect(wire::WireClient& c, MessageType want) {
  ASSIGN_OR_RETURN(wire::Incoming in, c.Receive(kTimeoutMs));
  if (in.type == MessageType::kError) {
    ASSIGN_OR_RETURN(wire::ErrorReply e, wire::Decode<wire::ErrorReply>(in.payload));
    return wire::StatusFromErrorReply(e);
  }
  if (in.type != want) {
    return InternalError(std::string("expected ") + wire::MessageTypeName(want) + ", got " +
                         wire::MessageTypeName(in.type));
  }
  return in;
}

Status Run(const DemoOptions& o) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  ScopedTempDir tmp("cairn-demo");
  if (tmp.path().empty()) return ErrnoToStatus(errno, "create a directory under /tmp");
  if (o.keep) tmp.Keep();
  const std::string& dir = tmp.path();

  Step(1, "identities: creating a worker key and a client key in " + dir);
  ASSIGN_OR_RETURN(Ed25519PrivateKey worker_new, Ed25519PrivateKey::Generate());
  ASSIGN_OR_RETURN(Ed25519PrivateKey client_new, Ed25519PrivateKey::Generate());
  RETURN_IF_ERROR(SaveKeyFile(worker_new, dir + "/worker.key", false));
  RETURN_IF_ERROR(SaveKeyFile(client_new, dir + "/client.key", false));
  ASSIGN_OR_RETURN(Ed25519PrivateKey worker_key, LoadKeyFile(dir + "/worker.key"));
  ASSIGN_OR_RETURN(Ed25519PrivateKey client_key, LoadKeyFile(dir + "/client.key"));
  std::printf("      worker %s, client %s (files mode 0600, reloaded and checked)\n",
              worker_key.public_key().KeyId().c_str(), client_key.public_key().KeyId().c_str());

  Step(2, "bus: starting a CURVE-encrypted ZeroMQ endpoint with open enrollment");
  ASSIGN_OR_RETURN(auto bus, wire::LoopbackBus::Start(wire::Enrollment::kOpen));
  std::printf("      listening on %s as %s\n", bus->endpoint().c_str(),
              bus->server_identity().public_key().KeyId().c_str());

  Step(3, "worker: signed hello over its CURVE connection");
  ASSIGN_OR_RETURN(auto worker, bus->Connect(worker_key));
  wire::WorkerHello hello;
  hello.name = "demo-worker";
  hello.region = "local";
  hello.max_tasks = 1;
  hello.devices.push_back(wire::Device{wire::DeviceKind::kCpu, "loopback CPU", 0, 2, ""});
  hello.sent_unix_millis = Clock::System()->NowUnixMillis();
  RETURN_IF_ERROR(wire::SignWorkerHello(worker_key, &hello));
  int64_t t0 = Clock::System()->MonotonicNanos();
  RETURN_IF_ERROR(worker->Send(hello));
  ASSIGN_OR_RETURN(wire::Incoming welcome_msg, Expect(*worker, MessageType::kWelcome));
  ASSIGN_OR_RETURN(wire::Welcome welcome, wire::Decode<wire::Welcome>(welcome_msg.payload));
  if (welcome.worker_id != worker_key.public_key().KeyId()) {
    return InternalError("welcomed as " + welcome.worker_id + ", not as the signing identity");
  }
  std::printf("      welcomed as %s in %.2f ms (heartbeat every %u ms, liveness %u)\n", welcome.worker_id.c_str(),
              MillisSince(t0), welcome.heartbeat_interval_millis, welcome.heartbeat_liveness);

  Step(4, "heartbeats: " + std::to_string(o.heartbeats) + " round trips");
  std::vector<double> rtts;
  for (int i = 0; i < o.heartbeats; ++i) {
    t0 = Clock::System()->MonotonicNanos();
    RETURN_IF_ERROR(worker->Send(wire::Heartbeat{static_cast<uint64_t>(i + 1), Clock::System()->NowUnixMillis(), 0}));
    RETURN_IF_ERROR(Expect(*worker, MessageType::kHeartbeat).status());
    rtts.push_back(MillisSince(t0));
  }
  std::sort(rtts.begin(), rtts.end());
  if (!rtts.empty()) std::printf("      median round trip %.3f ms\n", rtts[rtts.size() / 2]);

  Step(5, "client: ping and whoami");
  ASSIGN_OR_RETURN(auto client, bus->Connect(client_key));
  ASSIGN_OR_RETURN(wire::ClientReply pong, client->Call({1, 0, wire::PingBody{"cairn"}}, kTimeoutMs));
  ASSIGN_OR_RETURN(wire::ClientReply who, client->Call({2, 0, wire::WhoamiBody{}}, kTimeoutMs));
  ASSIGN_OR_RETURN(wire::ClientReply worker_who, worker->Call({3, 0, wire::WhoamiBody{}}, kTimeoutMs));
  std::printf("      pong \"%s\"; client (no hello) is %s; worker is %s\n",
              std::get<wire::PongBody>(pong.body).payload.c_str(),
              std::get<wire::WhoamiReplyBody>(who.body).identity.c_str(),
              std::get<wire::WhoamiReplyBody>(worker_who.body).identity.c_str());

  Step(6, "malformed input: a truncated heartbeat");
  std::string hb = wire::Encode(wire::Heartbeat{1, 2, 3});
  RETURN_IF_ERROR(client->SendFrames({wire::TypeFrame(MessageType::kHeartbeat), hb.substr(0, 12)}));
  auto bad = Expect(*client, MessageType::kHeartbeat);
  if (bad.ok()) return InternalError("a truncated frame was accepted");
  std::printf("      answered: %s\n", bad.status().ToString().c_str());
  RETURN_IF_ERROR(client->Call({4, 0, wire::PingBody{"still serving"}}, kTimeoutMs).status());
  wire::ServerStats s = bus->server().stats();
  std::printf("      endpoint still serving: %llu messages received, %llu malformed, %llu errors answered\n",
              static_cast<unsigned long long>(s.received), static_cast<unsigned long long>(s.malformed),
              static_cast<unsigned long long>(s.errors_sent));
  std::printf("demo: ok%s\n", o.keep ? (" (keys kept in " + dir + ")").c_str() : "");
  return OkStatus();
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand("demo", "Run cairn end to end on this machine, over loopback");
  demo->add_option("--heartbeats", opts->heartbeats, "Heartbeat round trips to make")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  demo->add_flag("--keep", opts->keep, "Keep the demo's key directory");
  demo->callback([opts, exit_code] { *exit_code = ReportStatus(Run(*opts)); });
}

}  // namespace cairn::cli
