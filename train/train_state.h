// The training state a checkpoint holds and a failed round rolls back to:
// parameters, AdamW moments and step, DiLoCo's outer parameters and
// momentum, the int8 error-feedback residuals, and the last finished round.
// Serialized with LibTorch's archive format under fixed names.
// Includes <torch/torch.h>: include from train/*.cc only.
// Thread safety: one training thread.
#ifndef CAIRN_TRAIN_TRAIN_STATE_H_
#define CAIRN_TRAIN_TRAIN_STATE_H_

#include <string>
#include <string_view>
#include <vector>

#include <torch/torch.h>

#include "runtime/base/statusor.h"
#include "runtime/crypto/sha256.h"

namespace cairn::train {

struct State {
  std::vector<torch::Tensor> params, exp_avg, exp_avg_sq, outer, momentum, residual;
  int64_t adam_step = 0;
  uint64_t round = 0;

  // Copies every tensor's values into `to` (same shapes), in place so the
  // model's parameters stay the same tensors.
  void CopyTo(State& to) const;
  State Clone() const;
};

StatusOr<std::string> Serialize(const State& s);
// Loads into `s`, whose tensors must already have the checkpoint's shapes.
Status Restore(const std::string& bytes, State* s);

// Which parts of the state a strategy uses: DiLoCo's outer parameters and
// momentum, and the int8 residual. The canonical bytes leave out what a job
// never reads (a single worker's outer copy, a residual of zeros), so
// hashing them costs less.
struct StateParts {
  bool outer = false;     // outer and momentum (diloco)
  bool residual = false;  // the int8 error-feedback residual (diloco with compress: int8)
  uint8_t bits() const { return static_cast<uint8_t>((outer ? 1 : 0) | (residual ? 2 : 0)); }
};

// The canonical state bytes a round's replay starts from (its SHA-256 is the
// receipt's stateHash; docs/verification.md), and what a challenged worker
// discloses. Unlike the checkpoint archive these bytes are defined exactly:
//   "CST2" | u8 parts (1: outer and momentum, 2: residual) | u64le round | i64le adam_step |
//   for each of params, exp_avg, exp_avg_sq, [outer, momentum], [residual]:
//     u32le tensors | for each: u64le values | f32le values
std::string EncodeState(const State& s, StateParts parts);
// Loads canonical bytes into `s`, whose tensors must have the same sizes and
// whose parts must be `parts`; InvalidArgument naming what differs.
Status DecodeState(std::string_view bytes, StateParts parts, State* s);
// SHA-256 of the inner optimizer's state: what carries from one round to
// the next on one worker (receipt optimizerHash):
//   "cairn-optimizer-v1" | i64le adam_step | exp_avg | exp_avg_sq | [residual] (f32le values)
Sha256Digest OptimizerHash(const State& s, StateParts parts);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_TRAIN_STATE_H_
