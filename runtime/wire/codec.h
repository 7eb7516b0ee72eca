// Encoding and decoding of bus messages: type frames and Cap'n Proto
// payloads, with the limits that make it safe to decode what an untrusted
// peer sent. The grammar and every limit are in docs/wire.md.
//
// Decoding never throws and never trusts the input: the payload is copied to
// an 8-byte-aligned buffer when it is not aligned, read with ReaderOptions
// whose traversal and nesting limits are sized to the frame, must be exactly
// one Cap'n Proto message (no trailing bytes), and every field is checked
// against its limit before a value is returned. Any violation is an
// InvalidArgument (or OutOfRange for sizes) Status naming the problem.
// Thread safety: pure functions.
#ifndef CAIRN_RUNTIME_WIRE_CODEC_H_
#define CAIRN_RUNTIME_WIRE_CODEC_H_

#include <string>
#include <string_view>

#include "runtime/base/statusor.h"
#include "runtime/wire/messages.h"

namespace cairn::wire {

// Type frame: 'C' 'N' <protocol version> <type code>, exactly 4 bytes.
inline constexpr size_t kTypeFrameSize = 4;
std::string TypeFrame(MessageType type);
// InvalidArgument for a wrong size, magic or version, or an unknown type.
StatusOr<MessageType> ParseTypeFrame(std::string_view frame);
const char* MessageTypeName(MessageType type);

// The largest payload accepted for each type (bytes).
size_t MaxPayloadBytes(MessageType type);

// Cap'n Proto reader limits (docs/wire.md): nesting depth, and traversal
// budget as a multiple of the payload's size in words.
inline constexpr int kNestingLimit = 16;
inline constexpr uint64_t kTraversalWordsPerPayloadWord = 4;

// Field limits.
inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxErrorMessageBytes = 4096;
inline constexpr size_t kMaxDevices = 64;
inline constexpr size_t kMaxPingBytes = 64 * 1024;
inline constexpr size_t kMaxSpecBytes = 64 * 1024;
inline constexpr size_t kMaxLogLineBytes = 4096;
inline constexpr size_t kMaxReceiptBytes = 65528;  // ledger::kMaxEntryBytes
inline constexpr size_t kMaxListItems = 10000;  // jobs, workers, log lines per reply
inline constexpr size_t kMaxIdBytes = 128;

std::string Encode(const ErrorReply& m);
std::string Encode(const WorkerHello& m);
std::string Encode(const Welcome& m);
std::string Encode(const Heartbeat& m);
std::string Encode(const ClientRequest& m);
std::string Encode(const ClientReply& m);
std::string Encode(const TaskAssign& m);
std::string Encode(const TaskRevoke& m);
std::string Encode(const TaskUpdate& m);
std::string Encode(const Goodbye& m);
std::string Encode(const Ack& m);

Status Decode(std::string_view payload, ErrorReply* out);
Status Decode(std::string_view payload, WorkerHello* out);
Status Decode(std::string_view payload, Welcome* out);
Status Decode(std::string_view payload, Heartbeat* out);
Status Decode(std::string_view payload, ClientRequest* out);
Status Decode(std::string_view payload, ClientReply* out);
Status Decode(std::string_view payload, TaskAssign* out);
Status Decode(std::string_view payload, TaskRevoke* out);
Status Decode(std::string_view payload, TaskUpdate* out);
Status Decode(std::string_view payload, Goodbye* out);
Status Decode(std::string_view payload, Ack* out);

// Decode<T>(payload): the StatusOr form.
template <typename T>
StatusOr<T> Decode(std::string_view payload) {
  T value;
  RETURN_IF_ERROR(Decode(payload, &value));
  return value;
}

// The bytes a worker signs in its hello: a domain-separation line followed by
// the canonical Cap'n Proto encoding of the hello with `signature` empty.
std::string WorkerHelloSigningBytes(const WorkerHello& m);

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_CODEC_H_
