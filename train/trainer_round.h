// Internal to the training loop (trainer.cc): one round's work, the state
// broadcast to new members, the evaluation, and the seeds. Includes
// LibTorch: include from train/*.cc only.
// Thread safety: the training thread.
#ifndef CAIRN_TRAIN_TRAINER_ROUND_H_
#define CAIRN_TRAIN_TRAINER_ROUND_H_

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/torch.h>

#include "kernels/ops.h"
#include "train/data_source.h"
#include "train/models.h"
#include "train/train_state.h"
#include "train/trainer.h"

namespace cairn::train::internal {

using Clock = std::chrono::steady_clock;

int64_t UnixMillis();
// Seeds derived from the job alone (SplitMix64 over FNV-1a of the parts).
uint64_t Mix(uint64_t h, uint64_t v);
uint64_t HashText(const std::string& s);
std::string Format(const char* fmt, double a, double b = 0, double c = 0, double d = 0, double e = 0);
torch::Tensor Flatten(const std::vector<torch::Tensor>& ts);
void Unflatten(const torch::Tensor& flat, std::vector<torch::Tensor>& ts);

// Test accuracy (images) or validation loss (text). With a group, each rank
// scores its slice and the sums are gathered and added in rank order (same
// answer on every rank), so no rank idles while another evaluates: that
// wait would be charged to the next round's collective.
double Evaluate(Model& model, const DataSource& data, const torch::Device& device, c10d::Backend* pg, uint32_t rank,
                uint32_t world);

// Tampering for the verification tests (TrainHooks::misbehave); the last
// payloads a stale or copying cheater replays.
struct Cheat {
  Misbehave mode = Misbehave::kNone;
  std::string last_update;  // this rank's update the round before
  std::string peer_update;  // the next rank's update the round before
};

// One round's work on the current group: the steps, then (diloco) the
// outer step. Throws whatever a failed collective throws; the caller rolls
// back and retries on a new group.
struct RoundContext {
  const TrainConfig* cfg;
  Model* model;
  DataSource* data;
  State* st;
  torch::Device device = torch::kCPU;  // where the model, state and batches live (train/train_device.h)
  std::vector<torch::Tensor>* grads;
  c10d::Backend* pg;  // null for one worker
  uint32_t rank, world;
  uint64_t seed;
  kernels::AdamWOptions adam;
  int64_t total_steps = 1;
  const std::atomic<bool>* cancel = nullptr;  // checked before every step
  uint32_t chain_every = 1;                   // the step chain's spacing (0: no chain)
  Cheat* cheat = nullptr;                     // tests only
  // The authenticated exchange (train/seat.h): updates are sealed with
  // `identity` and opened with `keys` (uid -> key); unsealed without one.
  const Ed25519PrivateKey* identity = nullptr;
  std::string job_id;
  uint32_t attempt = 0;
  std::vector<uint32_t> members;              // the group's uids, rank order
  std::map<uint32_t, std::string> keys;
};

// The steps of a round (ddp: all-reduced every one), appending to `chain`
// the parameters' fingerprint every chain_every steps and after the last.
Status InnerSteps(RoundContext& c, uint64_t round, int64_t steps, RoundReport* rep, ChunkCounts* used, double* loss_sum,
                  std::vector<kernels::Digest256>* chain);
// diloco: this rank's outgoing update, the pseudo-gradient outer - params as
// an int8 buffer (error feedback through the residual) or fp32 bytes.
StatusOr<std::string> MakeUpdate(RoundContext& c);
// diloco: every rank's sealed update gathered and opened, combined by the
// job's aggregate, and the outer Nesterov step.
Status ExchangeAndStep(RoundContext& c, uint64_t round, const std::string& update, RoundReport* rep);
// InnerSteps, then (diloco) MakeUpdate (into *update) and ExchangeAndStep.
Status RunRound(RoundContext& c, uint64_t round, int64_t steps, RoundReport* rep, ChunkCounts* used, double* loss_sum,
                std::vector<kernels::Digest256>* chain, std::string* update);

// Rank 0 sends its whole state (parameters, optimizer moments and step,
// outer parameters and momentum, round) to the group; members that do not
// hold it yet (`adopt`) load it, and start their own int8 residual at zero
// (error feedback belongs to each rank). Throws what a failed collective
// throws. Returns the bytes rank 0 sent.
StatusOr<uint64_t> BroadcastState(c10d::Backend& pg, uint32_t rank, State& st, bool adopt);

}  // namespace cairn::train::internal

#endif  // CAIRN_TRAIN_TRAINER_ROUND_H_
