// The determinism profile: what decides whether two runs of the same round
// give the same bits (docs/verification.md). Replays are compared only
// between workers whose profiles are equal; a replay on another profile is
// "not comparable", never fraud.
//   "libtorch=2.15.0;cpu=AVX2;blas=mkl;threads=1;device=cpu"
//   "libtorch=2.15.0;cpu=AVX2;blas=mkl;threads=1;device=cuda:NVIDIA H100 80GB HBM3;cc=9.0"
// cpu: the vector ISA ATen dispatches to; blas: the BLAS LibTorch calls
// (MKL in PyPI's wheel; an OpenBLAS kernel set where LibTorch uses
// OpenBLAS; "none"); threads: intra-op threads; device: where the round
// ran (train/train_device.h: the GPU's model and compute capability).
// Free of LibTorch (profile.cc includes it).
// Thread safety: pure.
#ifndef CAIRN_TRAIN_PROFILE_H_
#define CAIRN_TRAIN_PROFILE_H_

#include <string>

namespace cairn::train {

// The profile of this process running with `threads` intra-op threads (0:
// LibTorch's current number).
std::string DeterminismProfile(int threads = 0, const std::string& device = "cpu");

// Pins cuBLAS's workspace (CUBLAS_WORKSPACE_CONFIG=:4096:8, unless the
// environment already sets it): deterministic GEMMs on CUDA, and the same
// workspace on every worker of one profile. cuBLAS reads it once, at its
// first handle, so call this at process start, before any CUDA work (the
// worker's GPU self-measurement included) and before other threads run.
void PinCublasWorkspace();

// The device part for a GPU: "cuda:<name>;cc=<major.minor>" (';' and '='
// in the name, the profile's own separators, become '_').
std::string CudaDeviceProfile(const std::string& name, const std::string& compute_capability);

}  // namespace cairn::train

#endif  // CAIRN_TRAIN_PROFILE_H_
