// GPU tensor fingerprint: the digest defined in fingerprint_cpu.h, computed
// where the tensors live; only the 32-byte digest crosses to the host.
//
// Design: one thread per 4 KiB leaf (SHA-256 is a serial chain within a
// message, so parallelism comes from leaves; 100M fp32 parameters give ~100K
// leaves). Then one launch per tree level: thread g pairs nodes of the tensor
// that owns global leaf slot g, reading one buffer and writing the other
// (ping-pong, so no thread reads a slot another is writing). Odd nodes are
// copied up, so after the last level every tensor's root sits at its first
// slot. A single thread hashes the roots into the digest. Nothing depends on
// the block size or grid: each output is a fixed function of fixed inputs.
#ifndef CAIRN_KERNELS_FINGERPRINT_CUH_
#define CAIRN_KERNELS_FINGERPRINT_CUH_

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

#include "kernels/fingerprint_cpu.h"
#include "runtime/base/status.h"

namespace cairn::kernels {

// Device scratch the launcher needs for these tensor sizes (bytes).
size_t FingerprintWorkspaceBytes(const uint64_t* sizes, size_t count);

// Fingerprints `count` device buffers (spans[i].data are device pointers) into
// digest_device (32 bytes of device memory) on `stream`. `workspace` is device
// memory of at least FingerprintWorkspaceBytes; it and the buffers must stay
// alive until the stream reaches this work. Host-side tables are copied
// before return, so `spans` may be freed when this returns. Returns
// InvalidArgument for a short workspace, Internal for a CUDA failure.
Status LaunchFingerprint(const ByteSpan* spans, size_t count, void* workspace, size_t workspace_bytes,
                         uint8_t* digest_device, cudaStream_t stream);

}  // namespace cairn::kernels

#endif  // CAIRN_KERNELS_FINGERPRINT_CUH_
