// Marks functions compiled both for the host (g++, the CPU references and
// their tests) and for the device (nvcc): the math that must agree bit for
// bit between a kernel and its CPU reference lives in one such function.
// Header-only; no CUDA headers are needed to include it from g++.
#ifndef CAIRN_KERNELS_PORTABLE_CUH_
#define CAIRN_KERNELS_PORTABLE_CUH_

#if defined(__CUDACC__)
#define CAIRN_HD __host__ __device__ __forceinline__
#else
#define CAIRN_HD inline
#endif

// Full unrolling of a loop with a constant trip count, for nvcc and g++.
#if defined(__CUDACC__)
#define CAIRN_UNROLL _Pragma("unroll")
#else
#define CAIRN_UNROLL _Pragma("GCC unroll 64")
#endif

#endif  // CAIRN_KERNELS_PORTABLE_CUH_
