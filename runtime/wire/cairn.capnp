# cairn's one schema: every message on the buses (and, from the ledger issue
# on, every ledger entry). The framing around these payloads is specified in
# docs/wire.md; field limits are enforced by runtime/wire/codec.cc and listed
# there too.
#
# Evolution rules (Cap'n Proto's): only add fields with new ordinals at the
# end; never renumber, retype or reuse an ordinal; new union members are added
# at the end. A reader that sees an unknown union member answers an error.
@0xc087d2e2a3e14445;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("cairn::wire::schema");

# Answer to any frame that could not be accepted. Sent with type code 1.
struct ErrorReply {
  code @0 :UInt16;        # canonical status code (runtime/base/status.h)
  message @1 :Text;       # human-readable, names what was wrong
  requestId @2 :UInt64;   # the request's id when it could be read, else 0
}

enum DeviceKind {
  cpu @0;
  cuda @1;
}

struct Device {
  kind @0 :DeviceKind;
  name @1 :Text;                # "NVIDIA H100 80GB HBM3", "AMD EPYC 7B13"
  memoryBytes @2 :UInt64;
  computeUnits @3 :UInt32;      # CPU cores or CUDA streaming multiprocessors
  computeCapability @4 :Text;   # "9.0" for CUDA; empty for CPU
}

# First message from a worker on a new connection. Signed with the worker's
# Ed25519 identity key (see runtime/wire/hello.h for the signed bytes), and the
# identity's X25519 image must equal the CURVE key of the connection.
struct WorkerHello {
  protocolVersion @0 :UInt16;
  identityKey @1 :Data;         # Ed25519 public key, 32 bytes
  name @2 :Text;
  region @3 :Text;
  pricePerHourMicros @4 :UInt64;  # micro-credits per hour of one task slot
  maxTasks @5 :UInt32;
  devices @6 :List(Device);
  measuredTflops @7 :Float64;
  sentUnixMillis @8 :Int64;
  signature @9 :Data;           # Ed25519 signature, 64 bytes
}

# The coordinator's answer to a valid hello.
struct Welcome {
  workerId @0 :Text;            # the identity's key id
  heartbeatIntervalMillis @1 :UInt32;
  heartbeatLiveness @2 :UInt32; # missed heartbeats before a peer is dead
}

# Paranoid Pirate heartbeat, in both directions.
struct Heartbeat {
  sequence @0 :UInt64;
  sentUnixMillis @1 :Int64;
  runningTasks @2 :UInt32;
}

# Client (CLI) request envelope. New verbs are new union members.
struct ClientRequest {
  requestId @0 :UInt64;           # chosen by the client, echoed in the reply
  deadlineUnixMillis @1 :Int64;   # 0: no deadline
  body :union {
    ping @2 :Data;                # echoed back in ClientReply.pong
    whoami @3 :Void;              # answered with the caller's identity
  }
}

struct ClientReply {
  requestId @0 :UInt64;
  body :union {
    error @1 :ErrorReply;
    pong @2 :Data;
    whoami @3 :Text;              # "identity key id" or "curve:<hex>" if unbound
  }
}
