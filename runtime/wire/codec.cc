#include "runtime/wire/codec.h"

#include <cmath>
#include <cstring>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include "runtime/wire/cairn.capnp.h"

namespace cairn::wire {
namespace {

namespace s = ::cairn::wire::schema;

constexpr char kMagic0 = 'C';
constexpr char kMagic1 = 'N';

kj::ArrayPtr<const kj::byte> Bytes(const std::string& v) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(v.data()), v.size());
}
capnp::Text::Reader Text(const std::string& v) { return capnp::Text::Reader(v.c_str(), v.size()); }
std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }
std::string Str(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

std::string Serialize(capnp::MessageBuilder& builder) {
  size_t words = capnp::computeSerializedSizeInWords(builder);
  std::string out(words * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, builder);
  return out;
}

Status CheckText(std::string_view v, size_t max, const char* field) {
  if (v.size() > max) {
    return OutOfRangeError(std::string(field) + " is " + std::to_string(v.size()) + " bytes; limit " +
                           std::to_string(max));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    if (static_cast<unsigned char>(v[i]) < 0x20 || v[i] == 0x7f) {
      return InvalidArgumentError(std::string(field) + " has a control character at byte " + std::to_string(i));
    }
  }
  return OkStatus();
}

Status CheckDataSize(std::string_view v, size_t max, const char* field) {
  if (v.size() > max) {
    return OutOfRangeError(std::string(field) + " is " + std::to_string(v.size()) + " bytes; limit " +
                           std::to_string(max));
  }
  return OkStatus();
}

// Runs `fn(root)` over a validated reader of `payload`; converts every
// Cap'n Proto exception (malformed pointers, limits hit) into a Status.
template <typename Schema, typename Fn>
Status ReadPayload(std::string_view payload, MessageType type, Fn&& fn) {
  const char* what = MessageTypeName(type);
  if (payload.empty()) return InvalidArgumentError(std::string("empty ") + what + " payload");
  if (payload.size() > MaxPayloadBytes(type)) {
    return OutOfRangeError(std::string(what) + " payload of " + std::to_string(payload.size()) +
                           " bytes exceeds the limit of " + std::to_string(MaxPayloadBytes(type)));
  }
  if (payload.size() % sizeof(capnp::word) != 0) {
    return InvalidArgumentError(std::string(what) + " payload size " + std::to_string(payload.size()) +
                                " is not a multiple of 8");
  }
  size_t n = payload.size() / sizeof(capnp::word);
  const capnp::word* words = reinterpret_cast<const capnp::word*>(payload.data());
  // capnp::word is not copyable in every build mode; uint64_t has its size
  // and alignment.
  static_assert(sizeof(uint64_t) == sizeof(capnp::word) && alignof(uint64_t) >= alignof(capnp::word));
  thread_local std::vector<uint64_t> aligned;
  if (reinterpret_cast<uintptr_t>(payload.data()) % alignof(capnp::word) != 0) {
    aligned.resize(n);
    std::memcpy(aligned.data(), payload.data(), payload.size());
    words = reinterpret_cast<const capnp::word*>(aligned.data());
  }
  capnp::ReaderOptions options;
  options.traversalLimitInWords = std::max<uint64_t>(64, n * kTraversalWordsPerPayloadWord);
  options.nestingLimit = kNestingLimit;
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words, n), options);
    if (reader.getEnd() != words + n) {
      return InvalidArgumentError(std::string(what) + " payload has " +
                                  std::to_string((words + n - reader.getEnd()) * sizeof(capnp::word)) +
                                  " trailing bytes after the message");
    }
    Status st = fn(reader.getRoot<Schema>());
    if (!st.ok()) return st.WithContext(what);
    return OkStatus();
  } catch (const kj::Exception& e) {
    return InvalidArgumentError(std::string("malformed ") + what + " payload: " + e.getDescription().cStr());
  }
}

void FillError(s::ErrorReply::Builder b, const ErrorReply& m) {
  b.setCode(m.code);
  b.setMessage(Text(m.message));
  b.setRequestId(m.request_id);
}

Status ReadError(s::ErrorReply::Reader r, ErrorReply* out) {
  out->code = r.getCode();
  out->message = Str(r.getMessage());
  out->request_id = r.getRequestId();
  return CheckDataSize(out->message, kMaxErrorMessageBytes, "message");
}

void FillHello(s::WorkerHello::Builder b, const WorkerHello& m, bool with_signature) {
  b.setProtocolVersion(m.protocol_version);
  b.setIdentityKey(Bytes(m.identity_key));
  b.setName(Text(m.name));
  b.setRegion(Text(m.region));
  b.setPricePerHourMicros(m.price_per_hour_micros);
  b.setMaxTasks(m.max_tasks);
  auto devices = b.initDevices(static_cast<unsigned>(m.devices.size()));
  for (size_t i = 0; i < m.devices.size(); ++i) {
    const Device& d = m.devices[i];
    auto db = devices[static_cast<unsigned>(i)];
    db.setKind(d.kind == DeviceKind::kCuda ? s::DeviceKind::CUDA : s::DeviceKind::CPU);
    db.setName(Text(d.name));
    db.setMemoryBytes(d.memory_bytes);
    db.setComputeUnits(d.compute_units);
    db.setComputeCapability(Text(d.compute_capability));
  }
  b.setMeasuredTflops(m.measured_tflops);
  b.setSentUnixMillis(m.sent_unix_millis);
  if (with_signature) b.setSignature(Bytes(m.signature));
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
  }
  return "Unknown";
}

size_t MaxPayloadBytes(MessageType type) {
  switch (type) {
    case MessageType::kHeartbeat: return 256;
    case MessageType::kWelcome: return 1024;
    case MessageType::kError: return 8 * 1024;
    case MessageType::kWorkerHello: return 32 * 1024;
    case MessageType::kClientRequest:
    case MessageType::kClientReply: return 2 * 1024 * 1024;
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
  return Serialize(b);
}

std::string Encode(const ClientRequest& m) {
  capnp::MallocMessageBuilder b(64);
  auto r = b.initRoot<s::ClientRequest>();
  r.setRequestId(m.request_id);
  r.setDeadlineUnixMillis(m.deadline_unix_millis);
  auto body = r.initBody();
  if (const auto* ping = std::get_if<PingBody>(&m.body)) {
    body.setPing(Bytes(ping->payload));
  } else {
    body.setWhoami();
  }
  return Serialize(b);
}

std::string Encode(const ClientReply& m) {
  capnp::MallocMessageBuilder b(64);
  auto r = b.initRoot<s::ClientReply>();
  r.setRequestId(m.request_id);
  auto body = r.initBody();
  if (const auto* err = std::get_if<ErrorReply>(&m.body)) {
    FillError(body.initError(), *err);
  } else if (const auto* pong = std::get_if<PongBody>(&m.body)) {
    body.setPong(Bytes(pong->payload));
  } else {
    body.setWhoami(Text(std::get<WhoamiReplyBody>(m.body).identity));
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
    out->devices.clear();
    for (auto d : devices) {
      Device dev;
      auto kind = static_cast<uint16_t>(d.getKind());
      if (kind > 1) return InvalidArgumentError("device kind " + std::to_string(kind) + " is unknown");
      dev.kind = static_cast<DeviceKind>(kind);
      dev.name = Str(d.getName());
      dev.memory_bytes = d.getMemoryBytes();
      dev.compute_units = d.getComputeUnits();
      dev.compute_capability = Str(d.getComputeCapability());
      RETURN_IF_ERROR(CheckText(dev.name, kMaxNameBytes, "device name"));
      RETURN_IF_ERROR(CheckText(dev.compute_capability, 16, "computeCapability"));
      out->devices.push_back(std::move(dev));
    }
    return OkStatus();
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
    return OkStatus();
  });
}

Status Decode(std::string_view payload, ClientRequest* out) {
  return ReadPayload<s::ClientRequest>(payload, MessageType::kClientRequest, [&](s::ClientRequest::Reader r) {
    out->request_id = r.getRequestId();
    out->deadline_unix_millis = r.getDeadlineUnixMillis();
    auto body = r.getBody();
    switch (body.which()) {
      case s::ClientRequest::Body::PING:
        out->body = PingBody{Str(body.getPing())};
        return CheckDataSize(std::get<PingBody>(out->body).payload, kMaxPingBytes, "ping");
      case s::ClientRequest::Body::WHOAMI:
        out->body = WhoamiBody{};
        return OkStatus();
    }
    return InvalidArgumentError("unknown request body " + std::to_string(static_cast<int>(body.which())));
  });
}

Status Decode(std::string_view payload, ClientReply* out) {
  return ReadPayload<s::ClientReply>(payload, MessageType::kClientReply, [&](s::ClientReply::Reader r) {
    out->request_id = r.getRequestId();
    auto body = r.getBody();
    switch (body.which()) {
      case s::ClientReply::Body::ERROR: {
        ErrorReply e;
        RETURN_IF_ERROR(ReadError(body.getError(), &e));
        out->body = std::move(e);
        return OkStatus();
      }
      case s::ClientReply::Body::PONG:
        out->body = PongBody{Str(body.getPong())};
        return CheckDataSize(std::get<PongBody>(out->body).payload, kMaxPingBytes, "pong");
      case s::ClientReply::Body::WHOAMI:
        out->body = WhoamiReplyBody{Str(body.getWhoami())};
        return CheckText(std::get<WhoamiReplyBody>(out->body).identity, kMaxNameBytes, "whoami");
    }
    return InvalidArgumentError("unknown reply body " + std::to_string(static_cast<int>(body.which())));
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
