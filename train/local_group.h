// Ranks inside one worker (TrainTask::local_ranks): the process group that
// joins them. On CUDA it is c10d's ProcessGroupNCCL (one rank per GPU, each
// on its own thread, NCCL all-reducing between the GPUs); on the CPU, Gloo
// over loopback, which is how the tests run the same path without a GPU.
// Both meet through one in-process HashStore.
// Includes c10d's Backend: include from train/*.cc only.
// Thread safety: MakeLocalGroup may be called from each rank's thread.
#ifndef CAIRN_TRAIN_LOCAL_GROUP_H_
#define CAIRN_TRAIN_LOCAL_GROUP_H_

#include <chrono>

#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/torch.h>

#include "runtime/base/statusor.h"

namespace cairn::train {

// The in-process store the local ranks meet through.
c10::intrusive_ptr<c10d::Store> MakeLocalStore();

// Rank `rank` of `size` on `device`: NCCL for a CUDA device
// (FailedPrecondition where this build has no CUDA LibTorch code), Gloo on 127.0.0.1 for the
// CPU. A collective waiting longer than `timeout` fails (a rank that died).
StatusOr<c10::intrusive_ptr<c10d::Backend>> MakeLocalGroup(const c10::intrusive_ptr<c10d::Store>& store, int rank,
                                                            int size, const torch::Device& device,
                                                            std::chrono::milliseconds timeout);

// The device a collective's tensors must live on for `pg`: the training
// device for NCCL, the CPU for Gloo.
torch::Device CollectiveDevice(const c10d::Backend* pg, const torch::Device& device);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_LOCAL_GROUP_H_
