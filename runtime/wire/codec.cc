#include "runtime/wire/codec.h"

#include <cmath>
#include <cstring>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include "runtime/wire/cairn.capnp.h"
#include "runtime/wire/codec_internal.h"

namespace cairn::wire {
namespace {

namespace s = ::cairn::wire::schema;
using namespace ::cairn::wire::internal;  // NOLINT

constexpr char kMagic0 = 'C';
constexpr char kMagic1 = 'N';

void FillHello(s::WorkerHello::Builder b, const WorkerHello& m, bool with_signature) {
  b.setProtocolVersion(m.protocol_version);
  b.setIdentityKey(Bytes(m.identity_key));
  b.setName(Text(m.name));
  b.setRegion(Text(m.region));
  b.setPricePerHourMicros(m.price_per_hour_micros);
  b.setMaxTasks(m.max_tasks);
  FillDevices(b.initDevices(static_cast<unsigned>(m.devices.size())), m.devices);
  b.setMeasuredTflops(m.measured_tflops);
  b.setSentUnixMillis(m.sent_unix_millis);
  if (with_signature) b.setSignature(Bytes(m.signature));
  FillTaskRefs(b.initTasks(static_cast<unsigned>(m.tasks.size())), m.tasks);
  b.setProfile(Text(m.profile));
  b.setVerifyOnly(m.verify_only);
}

}  // namespace

std::string TypeFrame(MessageType type) {
  return std::string{kMagic0, kMagic1, static_cast<char>(kProtocolVersion), static_cast<char>(type)};
}

StatusOr<MessageType> ParseTypeFrame(std::string_view frame) {
  if (frame.size() != kTypeFrameSize) {
    return InvalidArgumentError("type frame must be 4 bytes, got " + std::to_string(frame.size()));
  }
  if (frame[0] != kMagic0 || frame[1] != kMagic1) return InvalidArgumentError("type frame has bad magic");
  if (static_cast<uint8_t>(frame[2]) != kProtocolVersion) {
    return InvalidArgumentError("unsupported protocol version " + std::to_string(static_cast<uint8_t>(frame[2])) +
                                " (this peer speaks " + std::to_string(kProtocolVersion) + ")");
  }
  uint8_t code = static_cast<uint8_t>(frame[3]);
  if (code == 0 || code > kMaxMessageType) {
    return InvalidArgumentError("unknown message type " + std::to_string(code));
  }
  return static_cast<MessageType>(code);
}

const char* MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kError: return "ErrorReply";
    case MessageType::kWorkerHello: return "WorkerHello";
    case MessageType::kWelcome: return "Welcome";
    case MessageType::kHeartbeat: return "Heartbeat";
    case MessageType::kClientRequest: return "ClientRequest";
    case MessageType::kClientReply: return "ClientReply";
    case MessageType::kTaskAssign: return "TaskAssign";
    case MessageType::kTaskRevoke: return "TaskRevoke";
    case MessageType::kTaskUpdate: return "TaskUpdate";
    case MessageType::kGoodbye: return "Goodbye";
    case MessageType::kAck: return "Ack";
  }
  return "Unknown";
}

size_t MaxPayloadBytes(MessageType type) {
  switch (type) {
    case MessageType::kHeartbeat: return 32 * 1024;  // with up to 64 task references
    case MessageType::kWelcome: return 1024;
    case MessageType::kError: return 8 * 1024;
    case MessageType::kWorkerHello: return 32 * 1024;
    case MessageType::kClientRequest:
    case MessageType::kClientReply: return 2 * 1024 * 1024;
    case MessageType::kTaskAssign: return 128 * 1024;
    case MessageType::kTaskUpdate: return 72 * 1024;  // a receipt is up to 64 KiB
    case MessageType::kTaskRevoke:
    case MessageType::kAck:
    case MessageType::kGoodbye: return 8 * 1024;
  }
  return 0;
}

std::string Encode(const ErrorReply& m) {
  capnp::MallocMessageBuilder b(64 + m.message.size() / 8);
  FillError(b.initRoot<s::ErrorReply>(), m);
  return Serialize(b);
}

std::string Encode(const WorkerHello& m) {
  capnp::MallocMessageBuilder b(256);
  FillHello(b.initRoot<s::WorkerHello>(), m, /*with_signature=*/true);
  return Serialize(b);
}

std::string Encode(const Welcome& m) {
  capnp::MallocMessageBuilder b(32);
  auto r = b.initRoot<s::Welcome>();
  r.setWorkerId(Text(m.worker_id));
  r.setHeartbeatIntervalMillis(m.heartbeat_interval_millis);
  r.setHeartbeatLiveness(m.heartbeat_liveness);
  return Serialize(b);
}

std::string Encode(const Heartbeat& m) {
  capnp::word scratch[16];
  std::memset(scratch, 0, sizeof(scratch));  // builders require a zeroed first segment
  capnp::MallocMessageBuilder b(kj::arrayPtr(scratch, 16));
  auto r = b.initRoot<s::Heartbeat>();
  r.setSequence(m.sequence);
  r.setSentUnixMillis(m.sent_unix_millis);
  r.setRunningTasks(m.running_tasks);
  if (!m.tasks.empty()) FillTaskRefs(r.initTasks(static_cast<unsigned>(m.tasks.size())), m.tasks);
  if (!m.challenges.empty()) {
    auto cs = r.initChallenges(static_cast<unsigned>(m.challenges.size()));
    for (unsigned i = 0; i < m.challenges.size(); ++i) {
      cs[i].setJobId(Text(m.challenges[i].job_id));
      cs[i].setAttempt(m.challenges[i].attempt);
      cs[i].setRound(m.challenges[i].round);
      cs[i].setStateHash(Bytes(m.challenges[i].state_hash));
      cs[i].setStepsHash(Bytes(m.challenges[i].steps_hash));
    }
  }
  return Serialize(b);
}



Status Decode(std::string_view payload, ErrorReply* out) {
  return ReadPayload<s::ErrorReply>(payload, MessageType::kError,
                                    [&](s::ErrorReply::Reader r) { return ReadError(r, out); });
}

Status Decode(std::string_view payload, WorkerHello* out) {
  return ReadPayload<s::WorkerHello>(payload, MessageType::kWorkerHello, [&](s::WorkerHello::Reader r) {
    out->protocol_version = r.getProtocolVersion();
    out->identity_key = Str(r.getIdentityKey());
    out->name = Str(r.getName());
    out->region = Str(r.getRegion());
    out->price_per_hour_micros = r.getPricePerHourMicros();
    out->max_tasks = r.getMaxTasks();
    out->measured_tflops = r.getMeasuredTflops();
    out->sent_unix_millis = r.getSentUnixMillis();
    out->signature = Str(r.getSignature());
    RETURN_IF_ERROR(CheckDataSize(out->identity_key, 32, "identityKey"));
    RETURN_IF_ERROR(CheckDataSize(out->signature, 64, "signature"));
    RETURN_IF_ERROR(CheckText(out->name, kMaxNameBytes, "name"));
    RETURN_IF_ERROR(CheckText(out->region, kMaxNameBytes, "region"));
    if (!std::isfinite(out->measured_tflops) || out->measured_tflops < 0) {
      return InvalidArgumentError("measuredTflops must be a finite non-negative number");
    }
    auto devices = r.getDevices();
    if (devices.size() > kMaxDevices) {
      return OutOfRangeError("devices has " + std::to_string(devices.size()) + " entries; limit " +
                             std::to_string(kMaxDevices));
    }
    RETURN_IF_ERROR(ReadDevices(devices, kMaxDevices, "device", &out->devices));
    out->profile = Str(r.getProfile());
    out->verify_only = r.getVerifyOnly();
    RETURN_IF_ERROR(CheckText(out->profile, 256, "profile"));
    return ReadTaskRefs(r.getTasks(), &out->tasks);
  });
}

Status Decode(std::string_view payload, Welcome* out) {
  return ReadPayload<s::Welcome>(payload, MessageType::kWelcome, [&](s::Welcome::Reader r) {
    out->worker_id = Str(r.getWorkerId());
    out->heartbeat_interval_millis = r.getHeartbeatIntervalMillis();
    out->heartbeat_liveness = r.getHeartbeatLiveness();
    return CheckText(out->worker_id, kMaxNameBytes, "workerId");
  });
}

Status Decode(std::string_view payload, Heartbeat* out) {
  return ReadPayload<s::Heartbeat>(payload, MessageType::kHeartbeat, [&](s::Heartbeat::Reader r) {
    out->sequence = r.getSequence();
    out->sent_unix_millis = r.getSentUnixMillis();
    out->running_tasks = r.getRunningTasks();
    auto cs = r.getChallenges();
    if (cs.size() > 64) return OutOfRangeError("challenges has " + std::to_string(cs.size()) + " entries; limit 64");
    out->challenges.clear();
    for (auto c : cs) {
      Challenge ch{Str(c.getJobId()), c.getAttempt(), c.getRound(), Str(c.getStateHash()), Str(c.getStepsHash())};
      RETURN_IF_ERROR(CheckText(ch.job_id, kMaxIdBytes, "challenges.jobId"));
      if (ch.state_hash.size() != 32 || ch.steps_hash.size() != 32) {
        return InvalidArgumentError("challenges: stateHash and stepsHash must be 32 bytes");
      }
      out->challenges.push_back(std::move(ch));
    }
    return ReadTaskRefs(r.getTasks(), &out->tasks);
  });
}



std::string WorkerHelloSigningBytes(const WorkerHello& m) {
  capnp::MallocMessageBuilder b(256);
  auto root = b.initRoot<s::WorkerHello>();
  FillHello(root, m, /*with_signature=*/false);
  kj::Array<capnp::word> canonical = capnp::canonicalize(root.asReader());
  std::string out = "cairn/worker-hello/v1\n";
  out.append(reinterpret_cast<const char*>(canonical.begin()), canonical.size() * sizeof(capnp::word));
  return out;
}

}  // namespace cairn::wire
