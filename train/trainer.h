// The training engine: runs one rank of a training task to the end, with
// the strategy the job chose.
//   single  plain loop on one worker.
//   ddp     gradients all-reduced (averaged) over the process group every
//           step, then the same fused AdamW step on every rank.
//   diloco  H inner AdamW steps alone, then the pseudo-gradient
//           (outer - local) is averaged across ranks, optionally as int8
//           with error feedback (all-gathered, dequantize-accumulated in
//           fp32), and an outer Nesterov SGD step (lr 0.7, momentum 0.9 by
//           default) updates the outer parameters every rank then resumes from.
// Collectives go through LibTorch's c10d ProcessGroupGloo, built per round
// from the coordinator's TCPStore by the members who showed up
// (train/membership.h): a worker lost mid-round makes the survivors roll the
// round back and redo it without it; nobody restarts. A round is kept only if
// every member's collectives succeeded (a vote through the store). Members
// that do not hold the job's state yet (all of them at the start, a joiner
// later) get it broadcast from rank 0, so every rank starts from the same
// bits whatever its hardware's random initialization. The optimizer step is cairn's fused AdamW kernel
// (kernels/ops.h). A round is `round_steps` steps (single/ddp) or H steps
// (diloco); after each, RoundReport feeds the worker's signed receipt.
//
// Deterministic: parameters start from a seed of (seed, job name), batches
// from (seed, job name, round, step, rank), and deterministic algorithms
// are on, so two runs of the same single-worker job give the same bits.
//
// This header is free of LibTorch; trainer.cc includes it.
// Thread safety: RunTraining blocks its caller; hooks run on that thread.
#ifndef CAIRN_TRAIN_TRAINER_H_
#define CAIRN_TRAIN_TRAINER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/data_client.h"
#include "data/manifest.h"
#include "kernels/fingerprint_cpu.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/crypto/sha256.h"
#include "train/train_config.h"

namespace cairn::train {

struct ChunkUse {
  Sha256Digest dataset{};
  uint32_t chunk = 0;
  uint64_t samples = 0;
};

// Misbehaviour for the verification tests (docs/verification.md): the
// worker sets it only from CAIRN_TEST_MISBEHAVE, which the test harness
// sets; every real run leaves kNone.
enum class Misbehave {
  kNone,
  kSkip,              // no steps: the starting state plus noise
  kLazy,              // half the steps it claims
  kWrongData,         // another rank's shard
  kRandom,            // a random update of the honest one's norm
  kScaled,            // the update x100
  kSignFlip,          // the update x-1
  kStale,             // the update it sent the round before
  kCopy,              // a peer's update of the round before
  kForgedTimestamps,  // claims its round started 5 minutes earlier
  kRefuseChallenge,   // never discloses its state (the worker acts on it)
};
StatusOr<Misbehave> ParseMisbehave(const std::string& name);
const char* MisbehaveName(Misbehave m);

struct RoundReport {
  uint64_t round = 0, rounds = 0;
  uint32_t steps = 0;
  int64_t start_unix_ms = 0, end_unix_ms = 0;
  std::vector<ChunkUse> consumed;
  kernels::Digest256 fingerprint_before{}, fingerprint_after{};
  double loss = 0;           // mean training loss over the round's steps
  double eval = -1;          // rank 0: test accuracy (images) or validation loss (text); -1 elsewhere
  double samples_per_sec = 0;
  uint64_t bytes_sent = 0;   // collective payload this rank sent this round
  uint32_t collectives = 0;  // collective calls this round
  double comm_seconds = 0;   // time spent waiting in collectives (compute utilization = 1 - comm/round)
  uint32_t members = 1;      // ranks that took part
  uint64_t sync_bytes = 0;   // state broadcast to members new this round (not in bytes_sent)

  // What the round commits to (docs/verification.md), for the receipt:
  Sha256Digest update_hash{};     // diloco: SHA-256 of `update`; single/ddp: the parameters' fingerprint after
  Sha256Digest steps_hash{};      // SHA-256 of `steps_blob`
  Sha256Digest state_hash{};      // SHA-256 of `state_bytes`
  Sha256Digest optimizer_hash{};  // the inner optimizer's state after the steps (train_state.h)
  std::string profile;            // determinism profile (train/profile.h)
  uint32_t rank = 0;              // in the round's group
  std::vector<uint32_t> group;    // the group's uids, rank order
  uint32_t chain_every = 0;
  // ...and what backs them, for the worker to keep (a challenge asks for it)
  // or upload (the coordinator's cheap checks read updates):
  std::string state_bytes;        // canonical state the round started from (train_state.h)
  std::string steps_blob;         // the step chain: a 32-byte fingerprint every chain_every steps and after the last
  std::string update;             // diloco: the pseudo-gradient payload this rank sent (int8 or fp32 bytes)
};

struct TrainTask {
  std::string job_id, job_name;
  uint32_t attempt = 0, rank = 0, world = 1;
  // Joins a job already running (rank: a uid above the original world's):
  // it is taken in at the next round boundary and starts from the state rank
  // 0 broadcasts (the current outer parameters, optimizer state, round).
  bool joining = false;
  std::string store_host;  // rendezvous TCPStore (world > 1)
  int store_port = 0;
  int device_index = 0;    // resources.device cuda: the CUDA device this rank uses
  // Ranks inside this worker (resources.gpus): local_ranks > 1 runs one
  // rank per device (CUDA device i, or the CPU) on threads of this process,
  // all-reducing every step over NCCL on CUDA (Gloo on the CPU, which tests
  // use). Only with world 1 (the worker is the job's only seat) and ddp.
  // Rank 0 reports rounds and checkpoints; the worker signs one receipt.
  uint32_t local_ranks = 1;
  std::string gloo_host = "127.0.0.1";  // the address this rank's Gloo device uses ("": the host name's)
  TrainConfig config;
  data::Manifest dataset;
  std::string resume_checkpoint;  // checkpoint bytes; "" starts fresh
  std::string parent_torchscript; // fine-tune: the parent model's TorchScript bytes
  // Authenticated exchange (train/seat.h; world > 1). With an identity,
  // updates are sealed with it and peers' are opened with the keys their
  // seat tickets vouch for; without one (in-process tests) they are not.
  std::string secret;             // the attempt's rendezvous secret ("" : none)
  const Ed25519PrivateKey* identity = nullptr;  // outlives the task
  std::string seat_ticket;        // the operator's signature over this worker's seat
  std::string operator_key;       // checks every peer's ticket
};

struct TrainHooks {
  std::function<void(const std::string&)> log;
  std::function<Status(const RoundReport&)> on_round;
  // Rank 0, every checkpoint_every rounds: the serialized state.
  std::function<Status(uint64_t round, const std::string& bytes, const kernels::Digest256& fingerprint)> on_checkpoint;
  const std::atomic<bool>* cancel = nullptr;
  int threads = 0;  // intra-op threads (0: LibTorch's default)
  // How long members wait at a round boundary for one that has not shown up
  // before going on without it (at least 1.5x the last round's time).
  int membership_timeout_ms = 15000;
  Misbehave misbehave = Misbehave::kNone;  // tests only (see Misbehave)
};

struct TrainResult {
  uint64_t rounds = 0;
  double final_eval = -1, final_loss = 0;
  bool leader = false;      // rank 0 of the final group: it registers the model
  std::string torchscript;  // the leader's trained model, runnable with plain LibTorch
  kernels::Digest256 fingerprint{};
  uint64_t bytes_sent = 0;
  uint64_t sync_bytes = 0;  // one-off state broadcasts to new members
  uint64_t first_round = 1; // >1 for a worker that joined a running job
  uint64_t collectives = 0;
  double comm_seconds = 0, seconds = 0;
};

StatusOr<TrainResult> RunTraining(const TrainTask& task, data::DataClient& data, const TrainHooks& hooks);

// The schedule every rank and every replay derives from the job alone.
struct TrainPlan {
  int64_t total_steps = 0;      // the LR schedule's length
  int64_t steps_per_round = 0;
  uint64_t rounds = 0;
};
// `world`: the attempt's placement world; `train_samples`: the training
// split's samples (text: tokens).
TrainPlan PlanTraining(const TrainConfig& cfg, bool text, uint64_t train_samples, uint32_t world);

// Replays one worker's round bit for bit from the state it committed to
// (docs/verification.md): the same steps on the same data with the same
// seeds, then (diloco) the same outgoing update. LibTorch runs with
// `threads` intra-op threads: a replay is comparable only on the worker's
// own determinism profile.
struct ReplayInput {
  TrainConfig config;
  data::Manifest dataset;
  std::string job_name;
  uint32_t world = 1;            // the attempt's placement world (the schedule)
  uint64_t round = 0;
  uint32_t steps = 0;            // as the receipt claims
  uint32_t rank = 0, group_world = 1;  // the worker's rank and group size in that round
  uint32_t chain_every = 1;
  std::string state;             // the disclosed canonical state
  int threads = 1;
};
struct ReplayResult {
  kernels::Digest256 fingerprint_before{};  // of the disclosed state's parameters
  Sha256Digest optimizer_before{};          // the disclosed state's optimizer part (train_state.h)
  std::vector<kernels::Digest256> chain;    // recomputed step chain
  Sha256Digest update_hash{}, optimizer_hash{};
  uint64_t state_round = 0;                 // the round the disclosed state says it ended
  double seconds = 0;
};
StatusOr<ReplayResult> ReplayRound(const ReplayInput& in, data::DataClient& data);

// Many rounds of one worker's seat replayed with its data loaded once (a
// verifier with a queue of one job's rounds, the false-positive bench).
// `in.round`, `in.steps`, `in.chain_every` and `in.state` are per call.
class Replayer {
 public:
  static StatusOr<std::unique_ptr<Replayer>> Create(const ReplayInput& in, data::DataClient& data);
  virtual ~Replayer() = default;
  virtual StatusOr<ReplayResult> Replay(uint64_t round, uint32_t steps, uint32_t chain_every, const std::string& state) = 0;
};

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_TRAINER_H_
