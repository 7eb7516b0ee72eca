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
  bf16Tflops @5 :Float64;       # CUDA: a bf16 matmul measured on this device at start; 0 for CPU
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
  tasks @10 :List(TaskRef);     # what it still runs after a reconnect (the coordinator re-adopts or revokes)
  profile @11 :Text;            # determinism profile (docs/verification.md): replays are compared only within one
  verifyOnly @12 :Bool;         # takes verification tasks only (a dedicated verifier)
}

# A task a worker holds, in its hello and every heartbeat. The coordinator
# reconciles against it: an assignment not listed yet is sent again, a task
# listed that the worker should not run is revoked again (docs/wire.md,
# "Delivery").
struct TaskRef {
  jobId @0 :Text;
  attempt @1 :UInt32;
  finished @2 :Bool;            # ended; its TaskFinished is not yet acknowledged
  servingEndpoint @3 :Text;     # a serve task's replica (host:port), else ""
  servingTask @4 :Text;
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
  tasks @3 :List(TaskRef);      # worker -> coordinator: the tasks it holds (empty from the coordinator)
  challenges @4 :List(Challenge);  # coordinator -> worker: its rounds it must disclose (docs/verification.md)
}

# A challenged round: the worker uploads the state it committed to
# (stateHash) and its step fingerprints (stepsHash) to the blob store.
# Listed in every heartbeat until both blobs are there or it expires.
struct Challenge {
  jobId @0 :Text;
  attempt @1 :UInt32;
  round @2 :UInt64;
  stateHash @3 :Data;
  stepsHash @4 :Data;
}

# Client (CLI) request envelope. New verbs are new union members.
struct ClientRequest {
  requestId @0 :UInt64;           # chosen by the client, echoed in the reply
  deadlineUnixMillis @1 :Int64;   # 0: no deadline
  body :union {
    ping @2 :Data;                # echoed back in ClientReply.pong
    whoami @3 :Void;              # answered with the caller's identity
    submit @4 :SubmitJob;         # answered with submitted (the job id)
    listJobs @5 :Void;            # answered with jobs
    jobStatus @6 :Text;           # job id; answered with job
    jobLogs @7 :LogsQuery;        # answered with logs
    cancel @8 :Text;              # job id; answered with cancelled
    listWorkers @9 :Void;         # answered with workers
    estimate @10 :SubmitJob;      # answered with estimate (nothing is kept or spent)
    topUp @11 :Data;              # a signed jobToppedUp entry; answered with job
  }
}

struct SubmitJob {
  spec @0 :Text;                  # the job spec, YAML, as written
  source @1 :Text;                # its file name, for error messages
  entry @2 :Data;                 # submit: the jobSubmitted entry the submitter signed over it;
                                  # estimate: the caller's Ed25519 public key, to be told its credits
}

# What a job would get now and cost (`cairn submit --dry-run`).
struct Estimate {
  datasets @0 :List(Data);        # the spec's datasets, resolved to ids, in its order
  parentModel @1 :Data;           # a fine-tune's parent model hash
  workers @2 :List(WorkerInfo);   # the placement it would get now (empty: none fits)
  unplaced @3 :Text;              # why it would not be placed now
  hours @4 :Float64;              # estimated run time, from the workers' measured speed
  samples @5 :UInt64;             # samples it will read
  computeMicros @6 :UInt64;
  dataMicros @7 :UInt64;
  feeMicros @8 :UInt64;           # a fine-tune's fee to the parent's author
  availableMicros @9 :Int64;      # the caller's credits
  basis @10 :Text;                # how the time was estimated
  refusal @11 :Text;              # why a submission of this spec would be refused ("" if it would not)
}

struct LogsQuery {
  jobId @0 :Text;
  fromLine @1 :UInt64;
}

struct JobInfo {
  id @0 :Text;
  name @1 :Text;
  kind @2 :Text;
  state @3 :Text;                 # queued | running | succeeded | failed | cancelled
  attempt @4 :UInt32;
  retries @5 :UInt32;
  workers @6 :List(Text);
  message @7 :Text;
  submitter @8 :Text;
  submittedUnixMillis @9 :Int64;
  workersWanted @10 :UInt32;
  budgetMicros @11 :UInt64;       # escrow deposited (submission and top-ups)
  spentMicros @12 :UInt64;        # paid from it: compute, data, fees
  refundedMicros @13 :UInt64;
}

struct WorkerInfo {
  id @0 :Text;
  name @1 :Text;
  region @2 :Text;
  alive @3 :Bool;
  slots @4 :UInt32;
  used @5 :UInt32;
  tflops @6 :Float64;
  pricePerHourMicros @7 :UInt64;
  device @8 :Text;                # cpu | cuda
  lastSeenMillisAgo @9 :Int64;
  reputation @10 :Float64;        # 0..1, from the ledger (docs/verification.md)
  passes @11 :UInt64;             # replays of its rounds that matched
  fails @12 :UInt64;              # failing verdicts
  rounds @13 :UInt64;             # accepted rounds
  profile @14 :Text;
  verifyOnly @15 :Bool;
  gpus @16 :List(Device);         # its GPUs as its hello reported them (bf16 TFLOP/s measured)
}

struct LogsChunk {
  lines @0 :List(Text);
  nextLine @1 :UInt64;
  finished @2 :Bool;              # the job has ended: no more lines will come
}

struct ClientReply {
  requestId @0 :UInt64;
  body :union {
    error @1 :ErrorReply;
    pong @2 :Data;
    whoami @3 :Text;              # "identity key id" or "curve:<hex>" if unbound
    submitted @4 :Text;           # the new job's id
    jobs @5 :List(JobInfo);
    job @6 :JobInfo;
    logs @7 :LogsChunk;
    cancelled @8 :Text;
    workers @9 :List(WorkerInfo);
    estimate @10 :Estimate;
  }
}

# Coordinator -> worker: run rank `rank` of attempt `attempt` of a job.
struct TaskAssign {
  jobId @0 :Text;
  attempt @1 :UInt32;
  rank @2 :UInt32;
  worldSize @3 :UInt32;
  spec @4 :Text;                  # the job spec (YAML) as submitted
  resumeRound @5 :UInt64;         # resume from this checkpoint round (0: start)
  peers @6 :List(Text);           # worker ids by rank
  rendezvous @7 :Text;            # host:port of this attempt's c10d TCPStore ("" for one worker)
  joining @8 :Bool;               # join the running attempt at a round boundary (rank: a uid >= worldSize)
  secret @9 :Text;                # the attempt's rendezvous secret: its store keys live under it
  seatTicket @10 :Data;           # the operator's signature over this seat (train/seat.h): peers admit only ticketed uids
  operatorKey @11 :Data;          # the operator's Ed25519 key, which signs tickets
}

# Coordinator -> worker: stop a task (lease revoked, job cancelled).
struct TaskRevoke {
  jobId @0 :Text;
  attempt @1 :UInt32;
  reason @2 :Text;
}

# Worker -> coordinator: progress and the end of a task.
struct TaskUpdate {
  jobId @0 :Text;
  attempt @1 :UInt32;
  body :union {
    log @2 :Text;                 # one line for `cairn logs`
    finished @3 :TaskFinished;
    receipt @4 :Data;             # a ledger entry signed by the worker (stepReceipt,
                                  # checkpointCommitted, modelRegistered) for the coordinator to append
    serving @5 :TaskServing;      # a serve task's replica is up
  }
  sequence @6 :UInt64;            # the worker's outbox number: answered with an Ack; 0 (log lines): no Ack
}

# Coordinator -> worker: the TaskUpdate with this sequence was handled.
# code 0: applied, or already applied before (a resend); the worker forgets it.
# code UNAVAILABLE: not now (the ledger cannot take it yet); the worker keeps
# it and sends it again later. Any other code: refused for good (the message
# says why); the worker forgets it and logs why.
struct Ack {
  sequence @0 :UInt64;
  code @1 :UInt16;
  message @2 :Text;
}

# Where a serve task answers inference requests (the gateway's upstream).
struct TaskServing {
  endpoint @0 :Text;              # host:port of its HTTP server
  task @1 :Text;                  # image-classification | text-generation | tensor
}

struct TaskFinished {
  ok @0 :Bool;
  message @1 :Text;
  code @2 :UInt16;                # canonical status code (0 when ok): the scheduler retries transient ones
}

# Worker -> coordinator: leaving cleanly; its leases are handed back.
struct Goodbye {
  reason @0 :Text;
}

# ---------------------------------------------------------------------------
# Ledger entries (docs/ledger.md). An entry is stored and hashed as the
# canonical Cap'n Proto encoding of a LedgerEntry: one segment, no segment
# table. `signature` is Ed25519 by `actor` over
#   "cairn/ledger-entry/v1\n" || canonical(the entry with signature unset).
# Amounts are integer micro-credits. Keys and hashes are 32 bytes.

struct LedgerEntry {
  version @0 :UInt16;              # 1
  timestampUnixMillis @1 :Int64;   # when the actor signed it
  actor @2 :Data;                  # Ed25519 public key of the signer
  signature @3 :Data;              # 64 bytes
  body :union {
    test @4 :TestEntry;
    accountCredited @5 :AccountCredited;
    datasetRegistered @6 :DatasetRegistered;
    jobSubmitted @7 :JobSubmitted;
    jobPlaced @8 :JobPlaced;
    stepReceipt @9 :StepReceipt;
    checkpointCommitted @10 :CheckpointCommitted;
    modelRegistered @11 :ModelRegistered;
    inferenceUsage @12 :InferenceUsage;
    settlement @13 :Settlement;
    receiptAccepted @14 :ReceiptAccepted;
    jobToppedUp @15 :JobToppedUp;
    jobClosed @16 :JobClosed;
    roundAudited @17 :RoundAudited;
    verifierAssigned @18 :VerifierAssigned;
    verdict @19 :Verdict;
  }
}

# Synthetic entry for load tests and audits; moves no money.
struct TestEntry {
  sequence @0 :UInt64;
  payload @1 :Data;
}

# The log operator credits an account (a purchase of credits).
struct AccountCredited {
  account @0 :Data;
  amountMicros @1 :UInt64;
  memo @2 :Text;
}

# The actor (the data contributor) registers a dataset.
struct DatasetRegistered {
  datasetId @0 :Data;              # Merkle root over the chunk hashes
  name @1 :Text;
  format @2 :Text;                 # idx | text | tokens-u16
  sizeBytes @3 :UInt64;
  chunks @4 :UInt32;
  samples @5 :UInt64;
  license @6 :Text;                # SPDX identifier
  pricePer1kSamplesMicros @7 :UInt64;
  manifestHash @8 :Data;           # SHA-256 of the manifest blob: the registry is rebuilt from the ledger
}

# The actor (the submitter) submits a job and puts its budget in escrow.
# `cairn submit` builds and signs it; the coordinator checks it against the
# spec it received (SHA-256 of the exact text, the datasets it resolves to,
# the budget and the price cap) and appends it unchanged.
struct JobSubmitted {
  jobId @0 :Text;
  specHash @1 :Data;
  datasets @2 :List(Data);
  budgetMicros @3 :UInt64;
  maxPricePerHourMicros @4 :UInt64;  # the spec's resources.max_price_per_hour; 0: no cap
  parentModel @5 :Data;              # a fine-tune's parent model hash; empty otherwise
  # Verification the submitter pays for (docs/verification.md); all 0: none.
  replayPpm @6 :UInt32;              # p_min: the least replay probability of an audited round, per million
  probationRounds @7 :UInt32;        # a worker's first N accepted rounds (in the whole log) are all replayed
  holdRounds @8 :UInt32;             # W: a round's pay is held until W more rounds of the job were audited
}

struct Placement {
  worker @0 :Data;
  rank @1 :UInt32;
  pricePerHourMicros @2 :UInt64;
}

# The coordinator places a job (one attempt) on workers.
struct JobPlaced {
  jobId @0 :Text;
  attempt @1 :UInt32;
  workers @2 :List(Placement);
}

struct ChunkUse {
  datasetId @0 :Data;
  chunk @1 :UInt32;
  samples @2 :UInt64;
}

# A worker (the actor) reports one round of work.
struct StepReceipt {
  jobId @0 :Text;
  round @1 :UInt64;
  steps @2 :UInt32;
  startUnixMillis @3 :Int64;
  endUnixMillis @4 :Int64;
  consumed @5 :List(ChunkUse);
  fingerprintBefore @6 :Data;
  fingerprintAfter @7 :Data;
  loss @8 :Float64;
  attempt @9 :UInt32;              # the job attempt it belongs to: (job, attempt, round, actor) is its identity
  # Commitments a replay checks (docs/verification.md); empty in receipts made before them.
  updateHash @10 :Data;            # SHA-256 of the round's outgoing update: diloco's signed pseudo-gradient payload,
                                   # single/ddp: of the canonical parameters after the round
  stepsHash @11 :Data;             # SHA-256 of the step chain: the parameters' fingerprint every chainEvery steps
  stateHash @12 :Data;             # SHA-256 of the canonical state the round started from (disclosed on challenge)
  optimizerHash @13 :Data;         # SHA-256 of the inner optimizer state after the round's steps
  profile @14 :Text;               # determinism profile: LibTorch, CPU features, BLAS, threads, device
  rank @15 :UInt32;                # this worker's rank in the round's group
  members @16 :List(UInt32);       # the group's uids in rank order (uid: rank in the attempt's placement, joiners above)
  chainEvery @17 :UInt32;          # steps between fingerprints in the step chain
}

struct CheckpointCommitted {
  jobId @0 :Text;
  round @1 :UInt64;
  blobHash @2 :Data;
  fingerprint @3 :Data;
  sizeBytes @4 :UInt64;
  attempt @5 :UInt32;
}

struct RevenueShare {
  account @0 :Data;
  basisPoints @1 :UInt32;          # of 10,000
}

struct ModelRegistered {
  name @0 :Text;
  modelHash @1 :Data;
  parentModel @2 :Data;            # empty for a model trained from scratch
  jobId @3 :Text;
  datasets @4 :List(Data);
  license @5 :Text;
  shares @6 :List(RevenueShare);   # sums to 10,000
  pricePer1kTokensMicros @7 :UInt64;
  pricePerRequestMicros @8 :UInt64;
  author @9 :Data;                 # the royalties' payee (32 bytes); empty: the signer. The job
                                   # spec's output.author, which `cairn submit` sets to the submitter
  finetuneFeeMicros @10 :UInt64;   # output.terms.finetune_fee: paid once to the author by each
                                   # job that fine-tunes this model, from its escrow
}

# Metered inference, batched per (model, consumer, serving worker).
struct InferenceUsage {
  model @0 :Data;
  consumer @1 :Data;
  worker @2 :Data;
  requests @3 :UInt64;
  tokens @4 :UInt64;
  chargeMicros @5 :UInt64;
  windowStartUnixMillis @6 :Int64;
  windowEndUnixMillis @7 :Int64;
  workerMicros @8 :UInt64;         # the serving worker's part of chargeMicros
}

# The operator pays an account out of the system.
struct Settlement {
  account @0 :Data;
  amountMicros @1 :UInt64;
  reference @2 :Text;
}

# The operator accepts one step receipt for payment: the worker is paid for
# min(the duration it signed, the time the coordinator observed), where the
# observed time runs from this worker's previous acceptance on the same
# (job, attempt), or from the jobPlaced that placed it, to this entry's
# timestamp. Both ends are operator-signed timestamps in the log, so an
# auditor recomputes the pay without trusting anyone's clock but the
# operator's. Data is paid here too, from the receipt's chunk uses.
struct ReceiptAccepted {
  jobId @0 :Text;
  attempt @1 :UInt32;
  round @2 :UInt64;
  worker @3 :Data;                 # the receipt's signer
}

# The submitter (the actor) adds to a job's escrow. A job closed as
# "budget exhausted" is reopened by it and resumes from its checkpoint.
struct JobToppedUp {
  jobId @0 :Text;
  amountMicros @1 :UInt64;
}

# The operator closes a job: its totals, and the refund of what is left in
# escrow to the submitter. The payout engine refuses one whose figures
# differ from its own.
struct JobClosed {
  jobId @0 :Text;
  outcome @1 :Text;                # succeeded | failed | cancelled | budget exhausted
  budgetMicros @2 :UInt64;         # deposited in all (submission and top-ups)
  computeMicros @3 :UInt64;
  dataMicros @4 :UInt64;
  feeMicros @5 :UInt64;            # fine-tuning fees
  refundMicros @6 :UInt64;         # to the submitter
  verifyMicros @7 :UInt64;         # paid to verifiers for replays
  forfeitMicros @8 :UInt64;        # held pay taken back after failing verdicts (part of the refund)
}

# The operator's cheap checks of one round of a job, once its receipts are
# in (docs/verification.md). The Merkle tree head after this entry seeds
# which of the listed (worker, round) pairs are replayed; the payout engine
# derives them, so the challenges are a pure function of the log.
struct AuditRow {
  worker @0 :Data;
  flags @1 :UInt32;                # cheap-check flags (bits in docs/verification.md); any flag forces a replay
  note @2 :Text;                   # what was seen, for people
}
struct RoundAudited {
  jobId @0 :Text;
  attempt @1 :UInt32;
  round @2 :UInt64;
  rows @3 :List(AuditRow);         # each receipt of the round accepted and not audited before
}

# The operator hands a challenged round to a verifier, at its price.
struct VerifierAssigned {
  jobId @0 :Text;
  attempt @1 :UInt32;
  round @2 :UInt64;
  worker @3 :Data;                 # the challenged worker
  verifier @4 :Data;
  pricePerHourMicros @5 :UInt64;
  task @6 :Text;                   # the verification task's id and attempt (its placement)
  taskAttempt @7 :UInt32;
}

# A replay's result, signed by the verifier that was assigned (or by the
# operator: "not comparable" when no verifier could replay it).
struct Verdict {
  jobId @0 :Text;
  attempt @1 :UInt32;
  round @2 :UInt64;
  worker @3 :Data;
  result @4 :Text;                 # pass | fail | not comparable
  step @5 :UInt32;                 # fail: the first step whose fingerprint diverged (steps+1: the update; 0: before any)
  reason @6 :Text;
  replayStartUnixMillis @7 :Int64;
  replayEndUnixMillis @8 :Int64;
  profile @9 :Text;                # the verifier's determinism profile
}
