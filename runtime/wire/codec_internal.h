// Helpers shared by the codec's files (codec.cc, codec_client.cc,
// codec_task.cc). Not part of the wire API.
#ifndef CAIRN_RUNTIME_WIRE_CODEC_INTERNAL_H_
#define CAIRN_RUNTIME_WIRE_CODEC_INTERNAL_H_

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/io.h>

#include "runtime/wire/cairn.capnp.h"
#include "runtime/wire/codec.h"

namespace cairn::wire::internal {

namespace s = ::cairn::wire::schema;



inline kj::ArrayPtr<const kj::byte> Bytes(const std::string& v) {
  return kj::arrayPtr(reinterpret_cast<const kj::byte*>(v.data()), v.size());
}
inline capnp::Text::Reader Text(const std::string& v) { return capnp::Text::Reader(v.c_str(), v.size()); }
inline std::string Str(capnp::Text::Reader t) { return std::string(t.cStr(), t.size()); }
inline std::string Str(capnp::Data::Reader d) { return std::string(reinterpret_cast<const char*>(d.begin()), d.size()); }

inline std::string Serialize(capnp::MessageBuilder& builder) {
  size_t words = capnp::computeSerializedSizeInWords(builder);
  std::string out(words * sizeof(capnp::word), '\0');
  kj::ArrayOutputStream stream(kj::arrayPtr(reinterpret_cast<kj::byte*>(out.data()), out.size()));
  capnp::writeMessage(stream, builder);
  return out;
}

inline Status CheckText(std::string_view v, size_t max, const char* field) {
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

inline Status CheckDataSize(std::string_view v, size_t max, const char* field) {
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

inline void FillError(s::ErrorReply::Builder b, const ErrorReply& m) {
  b.setCode(m.code);
  b.setMessage(Text(m.message));
  b.setRequestId(m.request_id);
}

inline Status ReadError(s::ErrorReply::Reader r, ErrorReply* out) {
  out->code = r.getCode();
  out->message = Str(r.getMessage());
  out->request_id = r.getRequestId();
  return CheckDataSize(out->message, kMaxErrorMessageBytes, "message");
}


// TaskRef lists (hello and heartbeats).
inline constexpr size_t kMaxTaskRefs = 64;
// Devices, as a worker's hello lists them and `cairn workers` shows its GPUs.
inline void FillDevices(capnp::List<s::Device>::Builder list, const std::vector<Device>& devices) {
  for (size_t i = 0; i < devices.size(); ++i) {
    const Device& d = devices[i];
    auto b = list[static_cast<unsigned>(i)];
    b.setKind(d.kind == DeviceKind::kCuda ? s::DeviceKind::CUDA : s::DeviceKind::CPU);
    b.setName(Text(d.name));
    b.setMemoryBytes(d.memory_bytes);
    b.setComputeUnits(d.compute_units);
    b.setComputeCapability(Text(d.compute_capability));
    b.setBf16Tflops(d.bf16_tflops);
  }
}

// `what` names the list in errors ("device", "worker.gpus").
inline Status ReadDevices(capnp::List<s::Device>::Reader list, size_t max, const std::string& what,
                          std::vector<Device>* out) {
  if (list.size() > max) {
    return InvalidArgumentError(what + " holds " + std::to_string(list.size()) + " entries (limit " + std::to_string(max) + ")");
  }
  out->clear();
  for (auto d : list) {
    Device dev;
    const auto kind = static_cast<uint16_t>(d.getKind());
    if (kind > 1) return InvalidArgumentError(what + " kind " + std::to_string(kind) + " is unknown");
    dev.kind = static_cast<DeviceKind>(kind);
    dev.name = Str(d.getName());
    dev.memory_bytes = d.getMemoryBytes();
    dev.compute_units = d.getComputeUnits();
    dev.compute_capability = Str(d.getComputeCapability());
    dev.bf16_tflops = d.getBf16Tflops();
    if (!(dev.bf16_tflops >= 0 && dev.bf16_tflops <= 1e6)) {
      return InvalidArgumentError(what + " bf16Tflops must be in [0, 1e6], got " + std::to_string(dev.bf16_tflops));
    }
    RETURN_IF_ERROR(CheckText(dev.name, kMaxNameBytes, "device name"));
    RETURN_IF_ERROR(CheckText(dev.compute_capability, 16, "computeCapability"));
    out->push_back(std::move(dev));
  }
  return OkStatus();
}

inline void FillTaskRefs(capnp::List<s::TaskRef>::Builder list, const std::vector<TaskRef>& refs) {
  for (unsigned i = 0; i < refs.size(); ++i) {
    auto t = list[i];
    t.setJobId(Text(refs[i].job_id));
    t.setAttempt(refs[i].attempt);
    t.setFinished(refs[i].finished);
    t.setServingEndpoint(Text(refs[i].serving_endpoint));
    t.setServingTask(Text(refs[i].serving_task));
  }
}
inline Status ReadTaskRefs(capnp::List<s::TaskRef>::Reader list, std::vector<TaskRef>* out) {
  if (list.size() > kMaxTaskRefs) {
    return OutOfRangeError("tasks has " + std::to_string(list.size()) + " entries; limit " + std::to_string(kMaxTaskRefs));
  }
  out->clear();
  for (auto t : list) {
    TaskRef r{Str(t.getJobId()), t.getAttempt(), t.getFinished(), Str(t.getServingEndpoint()), Str(t.getServingTask())};
    if (r.job_id.empty()) return InvalidArgumentError("tasks: jobId is empty");
    RETURN_IF_ERROR(CheckText(r.job_id, kMaxIdBytes, "tasks.jobId"));
    RETURN_IF_ERROR(CheckText(r.serving_endpoint, kMaxIdBytes, "tasks.servingEndpoint"));
    RETURN_IF_ERROR(CheckText(r.serving_task, kMaxIdBytes, "tasks.servingTask"));
    out->push_back(std::move(r));
  }
  return OkStatus();
}

}  // namespace cairn::wire::internal

#endif  // CAIRN_RUNTIME_WIRE_CODEC_INTERNAL_H_
