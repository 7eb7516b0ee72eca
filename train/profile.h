// The determinism profile: what decides whether two runs of the same round
// give the same bits (docs/verification.md). Replays are compared only
// between workers whose profiles are equal; a replay on another profile is
// "not comparable", never fraud.
//   "libtorch=1.13.0;cpu=AVX2;blas=Haswell;threads=1;device=cpu"
// cpu: the vector ISA ATen dispatches to; blas: the OpenBLAS kernel set
// ("none" without OpenBLAS); threads: intra-op threads.
// Free of LibTorch (profile.cc includes it).
// Thread safety: pure.
#ifndef CAIRN_TRAIN_PROFILE_H_
#define CAIRN_TRAIN_PROFILE_H_

#include <string>

namespace cairn::train {

// The profile of this process running with `threads` intra-op threads (0:
// LibTorch's current number).
std::string DeterminismProfile(int threads = 0);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_PROFILE_H_
