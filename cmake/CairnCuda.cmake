# CUDA detection, shared by the full build and the kernels-only GPU check
# (CAIRN_KERNELS_ONLY), after CairnTorch. Sets CAIRN_CUDA, CAIRN_TORCH_CUDA,
# CAIRN_NCCL_LIBRARY, CAIRN_NCCL_INCLUDE.
# CUDA: enabled when nvcc is found (the build machines have it but no GPU).
# CAIRN_ENABLE_CUDA=OFF forces the CPU-only build even where nvcc exists.
option(CAIRN_ENABLE_CUDA "Compile CUDA code when nvcc is found" ON)
include(CheckLanguage)
set(CAIRN_CUDA OFF)
if(CAIRN_ENABLE_CUDA)
  if(NOT DEFINED CMAKE_CUDA_COMPILER AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  check_language(CUDA)
endif()
if(CAIRN_ENABLE_CUDA AND CMAKE_CUDA_COMPILER)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 80 90)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(CAIRN_CUDA_ARCHITECTURES ${CMAKE_CUDA_ARCHITECTURES})
  # One NCCL per process: LibTorch's (the wheel's) where it has one, since
  # libtorch_cuda needs symbols an older system NCCL lacks.
  if(CAIRN_WHEEL_NCCL)
    find_library(CAIRN_NCCL_LIBRARY NAMES libnccl.so.2 nccl HINTS ${CAIRN_WHEEL_NCCL}/lib NO_DEFAULT_PATH)
    find_path(CAIRN_NCCL_INCLUDE nccl.h HINTS ${CAIRN_WHEEL_NCCL}/include NO_DEFAULT_PATH)
  endif()
  find_library(CAIRN_NCCL_LIBRARY NAMES nccl libnccl.so.2 HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  find_path(CAIRN_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  set(CAIRN_HAVE_NCCL OFF)
  if(CAIRN_NCCL_LIBRARY AND CAIRN_NCCL_INCLUDE)
    set(CAIRN_HAVE_NCCL ON)
  elseif(NOT CAIRN_KERNELS_ONLY)
    message(FATAL_ERROR "cairn: nvcc found but NCCL (libnccl, nccl.h) was not")
  endif()
  set(CAIRN_CUDA ON)
  list(JOIN CMAKE_CUDA_ARCHITECTURES ", sm_" _archs)
  message(STATUS "cairn: CUDA ${CMAKE_CUDA_COMPILER_VERSION} enabled for sm_${_archs}; NCCL: ${CAIRN_HAVE_NCCL}")
elseif(NOT CAIRN_ENABLE_CUDA)
  message(STATUS "cairn: CUDA disabled (CAIRN_ENABLE_CUDA=OFF): CUDA kernels and NCCL are left out (CPU-only build)")
else()
  message(STATUS "cairn: nvcc not found: CUDA kernels and NCCL are left out (CPU-only build)")
endif()
# CUDA host code (training and serving on the device, NCCL process groups)
# is built where LibTorch has CUDA and nvcc compiles the kernels.
set(CAIRN_TORCH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES AND CAIRN_CUDA)
  set(CAIRN_TORCH_CUDA ON)
  # Kernels compiled by one CUDA major run against the wheel's runtime only
  # if that runtime is the same major.
  if(CAIRN_TORCH_CUDART MATCHES "libcudart\\.so\\.([0-9]+)$" AND NOT CMAKE_MATCH_1 EQUAL CUDAToolkit_VERSION_MAJOR)
    message(WARNING "cairn: nvcc is CUDA ${CUDAToolkit_VERSION_MAJOR} but LibTorch's runtime is CUDA ${CMAKE_MATCH_1} "
                    "(${CAIRN_TORCH_CUDART}): CUDA host code (training and serving on GPUs) is left out; kernels use the static runtime")
    set(CAIRN_TORCH_CUDA OFF)
  endif()
endif()
