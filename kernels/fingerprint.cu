// GPU tensor fingerprint; design in fingerprint.cuh, definition in
// fingerprint_cpu.h. The hashing itself is sha256_portable.cuh, the same code
// the CPU-only tests run on the host.
#include "kernels/fingerprint.cuh"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/cuda_check.cuh"
#include "kernels/sha256_portable.cuh"

namespace cairn::kernels {
namespace {

constexpr int kThreads = 128;

struct Tables {
  const uint8_t* const* data;  // [count]
  const uint64_t* size;        // [count]
  const uint64_t* first_leaf;  // [count + 1]
  uint32_t count;
};

__device__ uint32_t OwnerOf(const Tables& t, uint64_t g) {
  uint32_t lo = 0, hi = t.count;  // first_leaf[lo] <= g < first_leaf[hi]
  while (hi - lo > 1) {
    const uint32_t mid = (lo + hi) / 2;
    if (t.first_leaf[mid] <= g) lo = mid; else hi = mid;
  }
  return lo;
}

__device__ void CopyDigest(const uint8_t* from, uint8_t* to) {
  const uint4* f = reinterpret_cast<const uint4*>(from);
  uint4* o = reinterpret_cast<uint4*>(to);
  o[0] = f[0];
  o[1] = f[1];
}

__global__ void LeafKernel(Tables t, uint64_t total, uint8_t* out) {
  const uint64_t g = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (g >= total) return;
  const uint32_t k = OwnerOf(t, g);
  const uint64_t off = (g - t.first_leaf[k]) * kFingerprintLeafBytes;
  const uint64_t size = t.size[k];
  const uint64_t len = size - off < kFingerprintLeafBytes ? size - off : kFingerprintLeafBytes;
  sha256::HashWithSuffix(t.data[k] + off, len, 0x00, out + g * 32);
}

// Level `level` (1-based) of every tensor's tree, from `in` (level - 1).
__global__ void LevelKernel(Tables t, uint64_t total, int level, const uint8_t* in, uint8_t* out) {
  const uint64_t g = uint64_t{blockIdx.x} * blockDim.x + threadIdx.x;
  if (g >= total) return;
  const uint32_t k = OwnerOf(t, g);
  const uint64_t base = t.first_leaf[k], leaves = t.first_leaf[k + 1] - base;
  const uint64_t i = g - base;
  const uint64_t below = (leaves + (uint64_t{1} << (level - 1)) - 1) >> (level - 1);  // nodes at level - 1
  const uint64_t here = (below + 1) / 2;
  if (i >= here) return;
  const uint8_t* left = in + (base + 2 * i) * 32;
  if (2 * i + 1 < below) {
    sha256::HashInterior(left, left + 32, out + g * 32);
  } else {
    CopyDigest(left, out + g * 32);
  }
}

// SHA-256(domain || u64le(T) || for each t: u64le(size) || root), one thread.
__global__ void TopKernel(Tables t, const uint8_t* roots, uint8_t* digest) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  uint32_t h[8];
  sha256::Init(h);
  uint32_t w[16] = {};
  int pos = 0;
  uint64_t total = 0;
  auto put = [&](uint8_t b) {
    sha256::PutByte(w, pos++, b);
    ++total;
    if (pos == 64) {
      sha256::Compress(h, w);
      for (int i = 0; i < 16; ++i) w[i] = 0;
      pos = 0;
    }
  };
  constexpr char kDomain[] = "cairn-fingerprint-v1";  // kFingerprintDomain; host arrays are not device-visible
  for (int i = 0; kDomain[i] != 0; ++i) put(static_cast<uint8_t>(kDomain[i]));
  for (int i = 0; i < 8; ++i) put(static_cast<uint8_t>(uint64_t{t.count} >> (8 * i)));
  for (uint32_t k = 0; k < t.count; ++k) {
    for (int i = 0; i < 8; ++i) put(static_cast<uint8_t>(t.size[k] >> (8 * i)));
    const uint8_t* r = roots + t.first_leaf[k] * 32;
    for (int i = 0; i < 32; ++i) put(r[i]);
  }
  const uint64_t bits = total * 8;
  sha256::PutByte(w, pos, 0x80);
  if (pos + 1 > 56) {
    sha256::Compress(h, w);
    for (int i = 0; i < 16; ++i) w[i] = 0;
  }
  w[14] = static_cast<uint32_t>(bits >> 32);
  w[15] = static_cast<uint32_t>(bits);
  sha256::Compress(h, w);
  sha256::StoreDigest(h, digest);
}

size_t Align256(size_t n) { return (n + 255) & ~size_t{255}; }

}  // namespace

size_t FingerprintWorkspaceBytes(const uint64_t* sizes, size_t count) {
  uint64_t leaves = 0;
  for (size_t i = 0; i < count; ++i) leaves += FingerprintLeaves(sizes[i]);
  return Align256(count * sizeof(void*)) + Align256(count * 8) + Align256((count + 1) * 8) + 2 * Align256(leaves * 32);
}

Status LaunchFingerprint(const ByteSpan* spans, size_t count, void* workspace, size_t workspace_bytes,
                         uint8_t* digest_device, cudaStream_t stream) {
  std::vector<uint64_t> sizes(count), first_leaf(count + 1, 0);
  std::vector<const uint8_t*> data(count);
  int levels = 0;
  for (size_t i = 0; i < count; ++i) {
    sizes[i] = spans[i].size;
    data[i] = static_cast<const uint8_t*>(spans[i].data);
    const uint64_t leaves = FingerprintLeaves(sizes[i]);
    first_leaf[i + 1] = first_leaf[i] + leaves;
    levels = std::max(levels, FingerprintLevels(leaves));
  }
  const size_t need = FingerprintWorkspaceBytes(sizes.data(), count);
  if (workspace_bytes < need) {
    return InvalidArgumentError("fingerprint workspace is " + std::to_string(workspace_bytes) + " bytes; " +
                                std::to_string(need) + " are needed");
  }
  const uint64_t total = first_leaf.back();
  if ((total + kThreads - 1) / kThreads > 0x7fffffffu) {
    return InvalidArgumentError("fingerprint: " + std::to_string(total) + " leaves exceed one launch's grid");
  }
  uint8_t* w = static_cast<uint8_t*>(workspace);
  const uint8_t** d_data = reinterpret_cast<const uint8_t**>(w);
  w += Align256(count * sizeof(void*));
  uint64_t* d_size = reinterpret_cast<uint64_t*>(w);
  w += Align256(count * 8);
  uint64_t* d_first = reinterpret_cast<uint64_t*>(w);
  w += Align256((count + 1) * 8);
  uint8_t* buf[2] = {w, w + Align256(total * 32)};
  // Pageable host memory: cudaMemcpyAsync stages it before returning, so the
  // vectors above may go out of scope safely.
  if (count > 0) {
    CAIRN_CUDA_RETURN_IF_ERROR(
        cudaMemcpyAsync(d_data, data.data(), count * sizeof(void*), cudaMemcpyHostToDevice, stream));
    CAIRN_CUDA_RETURN_IF_ERROR(cudaMemcpyAsync(d_size, sizes.data(), count * 8, cudaMemcpyHostToDevice, stream));
  }
  CAIRN_CUDA_RETURN_IF_ERROR(
      cudaMemcpyAsync(d_first, first_leaf.data(), (count + 1) * 8, cudaMemcpyHostToDevice, stream));
  Tables t{d_data, d_size, d_first, static_cast<uint32_t>(count)};
  if (total > 0) {
    const unsigned grid = static_cast<unsigned>((total + kThreads - 1) / kThreads);
    LeafKernel<<<grid, kThreads, 0, stream>>>(t, total, buf[0]);
    CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    for (int level = 1; level <= levels; ++level) {
      LevelKernel<<<grid, kThreads, 0, stream>>>(t, total, level, buf[(level - 1) & 1], buf[level & 1]);
      CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
    }
  }
  TopKernel<<<1, 1, 0, stream>>>(t, buf[levels & 1], digest_device);
  CAIRN_CUDA_RETURN_IF_ERROR(cudaGetLastError());
  return OkStatus();
}

}  // namespace cairn::kernels
