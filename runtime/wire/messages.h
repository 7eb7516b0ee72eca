// The bus messages as plain C++ values, decoupled from Cap'n Proto so that
// handlers never touch untrusted pointers: runtime/wire/codec.h converts
// between these and validated Cap'n Proto bytes (schema: cairn.capnp; framing
// and limits: docs/wire.md).
// Thread safety: plain values.
#ifndef CAIRN_RUNTIME_WIRE_MESSAGES_H_
#define CAIRN_RUNTIME_WIRE_MESSAGES_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace cairn::wire {

// The type code carried in a message's type frame. Values are permanent.
enum class MessageType : uint8_t {
  kError = 1,
  kWorkerHello = 2,
  kWelcome = 3,
  kHeartbeat = 4,
  kClientRequest = 5,
  kClientReply = 6,
  kTaskAssign = 7,
  kTaskRevoke = 8,
  kTaskUpdate = 9,
  kGoodbye = 10,
  kAck = 11,
};
inline constexpr uint8_t kMaxMessageType = 11;

inline constexpr uint16_t kProtocolVersion = 1;

struct ErrorReply {
  uint16_t code = 0;  // canonical StatusCode
  std::string message;
  uint64_t request_id = 0;
};

enum class DeviceKind : uint8_t { kCpu = 0, kCuda = 1 };

struct Device {
  DeviceKind kind = DeviceKind::kCpu;
  std::string name;
  uint64_t memory_bytes = 0;
  uint32_t compute_units = 0;
  std::string compute_capability;
  double bf16_tflops = 0;  // CUDA: measured by a bf16 matmul at start; 0 for CPU
};

// A task a worker holds (hello and heartbeats): what the coordinator
// reconciles its assignments against.
struct TaskRef {
  std::string job_id;
  uint32_t attempt = 0;
  bool finished = false;         // ended; its TaskFinished is not yet acknowledged
  std::string serving_endpoint;  // serve tasks: host:port of the replica
  std::string serving_task;
  bool operator==(const TaskRef& o) const {
    return job_id == o.job_id && attempt == o.attempt && finished == o.finished &&
           serving_endpoint == o.serving_endpoint && serving_task == o.serving_task;
  }
};

struct WorkerHello {
  uint16_t protocol_version = kProtocolVersion;
  std::string identity_key;  // Ed25519 public key, 32 bytes
  std::string name;
  std::string region;
  uint64_t price_per_hour_micros = 0;
  uint32_t max_tasks = 0;
  std::vector<Device> devices;
  double measured_tflops = 0;
  int64_t sent_unix_millis = 0;
  std::string signature;  // 64 bytes
  std::vector<TaskRef> tasks;  // what it still holds (after a reconnect)
  std::string profile;         // determinism profile (train/profile.h)
  bool verify_only = false;    // takes verification tasks only
};

struct Welcome {
  std::string worker_id;
  uint32_t heartbeat_interval_millis = 0;
  uint32_t heartbeat_liveness = 0;
};

// A round of the worker's that the log drew for a replay: the worker
// uploads the state and step chain it committed to (docs/verification.md).
struct Challenge {
  std::string job_id;
  uint32_t attempt = 0;
  uint64_t round = 0;
  std::string state_hash, steps_hash;  // raw SHA-256
  bool operator==(const Challenge& o) const {
    return job_id == o.job_id && attempt == o.attempt && round == o.round && state_hash == o.state_hash &&
           steps_hash == o.steps_hash;
  }
};

struct Heartbeat {
  uint64_t sequence = 0;
  int64_t sent_unix_millis = 0;
  uint32_t running_tasks = 0;
  std::vector<TaskRef> tasks;  // worker -> coordinator
  std::vector<Challenge> challenges;  // coordinator -> worker (at most 64)
};

// ClientRequest bodies (one per verb).
struct PingBody { std::string payload; };
struct WhoamiBody {};
struct SubmitBody {
  std::string spec;    // YAML as written
  std::string source;  // file name for messages
  std::string entry;   // the jobSubmitted entry its submitter signed (ledger/entry.h bytes)
};
struct EstimateBody {
  std::string spec, source;
  std::string caller_key;  // the caller's Ed25519 public key (raw), to be told its credits
};
struct TopUpBody { std::string entry; };  // a signed jobToppedUp entry
struct ListJobsBody {};
struct JobStatusBody { std::string job_id; };
struct JobLogsBody {
  std::string job_id;
  uint64_t from_line = 0;
};
struct CancelBody { std::string job_id; };
struct ListWorkersBody {};

struct ClientRequest {
  uint64_t request_id = 0;
  int64_t deadline_unix_millis = 0;
  std::variant<PingBody, WhoamiBody, SubmitBody, ListJobsBody, JobStatusBody, JobLogsBody, CancelBody,
               ListWorkersBody, EstimateBody, TopUpBody>
      body;
};

struct JobInfo {
  std::string id, name, kind, state;
  uint32_t attempt = 0, retries = 0, workers_wanted = 0;
  std::vector<std::string> workers;
  std::string message, submitter;
  int64_t submitted_unix_millis = 0;
  uint64_t budget_micros = 0, spent_micros = 0, refunded_micros = 0;
};

struct WorkerInfo {
  std::string id, name, region, device;
  bool alive = false;
  uint32_t slots = 0, used = 0;
  double tflops = 0;
  uint64_t price_per_hour_micros = 0;
  int64_t last_seen_millis_ago = 0;
  double reputation = 0;  // 0..1, from the ledger
  uint64_t passes = 0, fails = 0, rounds = 0;
  std::string profile;
  bool verify_only = false;
  std::vector<Device> gpus;  // CUDA devices from its hello
};

struct LogsChunk {
  std::vector<std::string> lines;
  uint64_t next_line = 0;
  bool finished = false;
};

// ClientReply bodies.
struct PongBody { std::string payload; };
struct WhoamiReplyBody { std::string identity; };
struct SubmittedBody { std::string job_id; };
struct JobsBody { std::vector<JobInfo> jobs; };
struct CancelledBody { std::string job_id; };
struct WorkersBody { std::vector<WorkerInfo> workers; };
struct EstimateReply {
  std::vector<std::string> datasets;  // raw ids
  std::string parent_model;           // raw hash, "" for none
  std::vector<WorkerInfo> workers;
  std::string unplaced, basis, refusal;
  double hours = 0;
  uint64_t samples = 0, compute_micros = 0, data_micros = 0, fee_micros = 0;
  int64_t available_micros = 0;
  uint64_t total_micros() const { return compute_micros + data_micros + fee_micros; }
};

struct ClientReply {
  uint64_t request_id = 0;
  std::variant<ErrorReply, PongBody, WhoamiReplyBody, SubmittedBody, JobsBody, JobInfo, LogsChunk, CancelledBody,
               WorkersBody, EstimateReply>
      body;
};

// The worker protocol beyond hello and heartbeats.
struct TaskAssign {
  std::string job_id;
  uint32_t attempt = 0, rank = 0, world_size = 1;
  std::string spec;  // YAML
  uint64_t resume_round = 0;
  std::vector<std::string> peers;  // worker ids by rank
  std::string rendezvous;          // host:port of the attempt's TCPStore; "" for one worker
  bool joining = false;            // join the running attempt (rank: a uid, may be >= world_size)
  std::string secret;              // the attempt's rendezvous secret (train/seat.h)
  std::string seat_ticket;         // the operator's signature over this seat (64 bytes, or none)
  std::string operator_key;        // the operator's Ed25519 key (32 bytes, or none)
};

struct TaskRevoke {
  std::string job_id;
  uint32_t attempt = 0;
  std::string reason;
};

struct TaskLogLine { std::string line; };
struct TaskFinished {
  bool ok = false;
  std::string message;
  uint16_t code = 0;  // canonical StatusCode; 0 when ok
};
// A ledger entry the worker signed, for the coordinator to check and append.
struct TaskReceipt { std::string entry; };
// A serve task's replica is up at `endpoint` (host:port), serving `task`.
struct TaskServing {
  std::string endpoint;
  std::string task;
};
struct TaskUpdate {
  std::string job_id;
  uint32_t attempt = 0;
  std::variant<TaskLogLine, TaskFinished, TaskReceipt, TaskServing> body;
  uint64_t sequence = 0;  // outbox number, answered with an Ack; 0: none expected
};

// The coordinator handled the TaskUpdate numbered `sequence`: code 0 done
// (or done before), UNAVAILABLE try again later, anything else refused.
struct Ack {
  uint64_t sequence = 0;
  uint16_t code = 0;
  std::string message;
};

struct Goodbye { std::string reason; };

// MessageTraits<T>::kType: the type code each message is sent with.
template <typename T> struct MessageTraits;
template <> struct MessageTraits<ErrorReply> { static constexpr MessageType kType = MessageType::kError; };
template <> struct MessageTraits<WorkerHello> { static constexpr MessageType kType = MessageType::kWorkerHello; };
template <> struct MessageTraits<Welcome> { static constexpr MessageType kType = MessageType::kWelcome; };
template <> struct MessageTraits<Heartbeat> { static constexpr MessageType kType = MessageType::kHeartbeat; };
template <> struct MessageTraits<ClientRequest> { static constexpr MessageType kType = MessageType::kClientRequest; };
template <> struct MessageTraits<ClientReply> { static constexpr MessageType kType = MessageType::kClientReply; };
template <> struct MessageTraits<TaskAssign> { static constexpr MessageType kType = MessageType::kTaskAssign; };
template <> struct MessageTraits<TaskRevoke> { static constexpr MessageType kType = MessageType::kTaskRevoke; };
template <> struct MessageTraits<TaskUpdate> { static constexpr MessageType kType = MessageType::kTaskUpdate; };
template <> struct MessageTraits<Goodbye> { static constexpr MessageType kType = MessageType::kGoodbye; };
template <> struct MessageTraits<Ack> { static constexpr MessageType kType = MessageType::kAck; };

}  // namespace cairn::wire

#endif  // CAIRN_RUNTIME_WIRE_MESSAGES_H_
