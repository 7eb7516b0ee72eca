// Writes a seed corpus for wire_decode_fuzz: one valid encoding of every
// message type, prefixed with the fuzzer's selector byte.
// Usage: wire_fuzz_seeds DIR
#include <cstdio>
#include <fstream>
#include <string>

#include "runtime/wire/codec.h"

using namespace cairn::wire;

static void Write(const std::string& dir, const std::string& name, char selector, const std::string& bytes) {
  std::ofstream(dir + "/" + name, std::ios::binary) << selector << bytes;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  WorkerHello hello;
  hello.identity_key = std::string(32, 'k');
  hello.name = "worker";
  hello.region = "eu";
  hello.devices.push_back(Device{DeviceKind::kCuda, "H100", 1 << 30, 132, "9.0"});
  hello.signature = std::string(64, 's');
  Write(dir, "type", 0, TypeFrame(MessageType::kHeartbeat));
  Write(dir, "error", 1, Encode(ErrorReply{3, "bad", 1}));
  Write(dir, "hello", 2, Encode(hello));
  Write(dir, "welcome", 3, Encode(Welcome{"id", 1000, 3}));
  Write(dir, "heartbeat", 4, Encode(Heartbeat{1, 2, 3, {}, {}}));
  Write(dir, "ping", 5, Encode(ClientRequest{1, 0, PingBody{"abc"}}));
  Write(dir, "whoami", 5, Encode(ClientRequest{2, 0, WhoamiBody{}}));
  Write(dir, "reply_err", 6, Encode(ClientReply{1, ErrorReply{5, "x", 1}}));
  Write(dir, "reply_pong", 6, Encode(ClientReply{1, PongBody{"abc"}}));
  Write(dir, "submit", 5, Encode(ClientRequest{3, 0, SubmitBody{"name: x\n", "job.yaml", "entry"}}));
  Write(dir, "estimate", 5, Encode(ClientRequest{4, 0, EstimateBody{"name: x\n", "job.yaml", ""}}));
  Write(dir, "topup", 5, Encode(ClientRequest{5, 0, TopUpBody{"entry"}}));
  EstimateReply est;
  est.datasets = {std::string(32, 'd')};
  est.workers = {WorkerInfo{"w1", "box", "eu", "cpu", true, 1, 0, 1.0, 1, 0, 0.5, 1, 0, 3, "p", false, {}}};
  Write(dir, "reply_estimate", 6, Encode(ClientReply{3, est}));
  Write(dir, "reply_jobs", 6,
        Encode(ClientReply{2, JobsBody{{JobInfo{"x-1", "x", "train", "running", 1, 0, 2, {"w1"}, "", "a", 1}}}}));
  Write(dir, "assign", 7, Encode(TaskAssign{"x-1", 1, 0, 2, "name: x\n", 0, {"w1", "w2"}, "", false, "", "", ""}));
  Write(dir, "revoke", 8, Encode(TaskRevoke{"x-1", 1, "lost"}));
  Write(dir, "update", 9, Encode(TaskUpdate{"x-1", 1, TaskLogLine{"hello"}, 0}));
  Write(dir, "goodbye", 10, Encode(Goodbye{"bye"}));
  return 0;
}
