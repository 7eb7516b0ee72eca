# Every third-party dependency, found once. All come from Debian 12 packages
# installed by scripts/setup.
find_package(Threads REQUIRED)
find_package(OpenSSL 3.0 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(CapnProto REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(GTest REQUIRED)
# ZeroMQ by hand rather than pkg_check_modules: CMake 3.25's FindPkgConfig
# moves libzmq's "-isystem /usr/include/mit-krb5" between two lists on the
# second configure, which rebuilt every ZeroMQ user on each scripts/setup.
find_path(CAIRN_ZMQ_INCLUDE zmq.h)
find_library(CAIRN_ZMQ_LIBRARY zmq)
if(NOT CAIRN_ZMQ_INCLUDE OR NOT CAIRN_ZMQ_LIBRARY)
  message(FATAL_ERROR "cairn: ZeroMQ not found (Debian package libzmq3-dev; run scripts/setup)")
endif()
add_library(cairn::zmq UNKNOWN IMPORTED)
set_target_properties(cairn::zmq PROPERTIES IMPORTED_LOCATION ${CAIRN_ZMQ_LIBRARY}
                                            INTERFACE_INCLUDE_DIRECTORIES ${CAIRN_ZMQ_INCLUDE})
# cpp-httplib: Debian builds it as a shared library, so the header must be
# used with the same feature macros the library was built with.
find_library(CAIRN_HTTPLIB_LIBRARY cpp-httplib)
find_path(CAIRN_HTTPLIB_INCLUDE httplib.h)
if(NOT CAIRN_HTTPLIB_LIBRARY OR NOT CAIRN_HTTPLIB_INCLUDE)
  message(FATAL_ERROR "cairn: cpp-httplib not found (Debian package libcpp-httplib-dev; run scripts/setup)")
endif()
add_library(cairn::httplib UNKNOWN IMPORTED)
set_target_properties(cairn::httplib PROPERTIES
  IMPORTED_LOCATION ${CAIRN_HTTPLIB_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${CAIRN_HTTPLIB_INCLUDE}
  INTERFACE_COMPILE_DEFINITIONS "CPPHTTPLIB_OPENSSL_SUPPORT;CPPHTTPLIB_ZLIB_SUPPORT;CPPHTTPLIB_BROTLI_SUPPORT"
  INTERFACE_LINK_LIBRARIES "OpenSSL::SSL;Threads::Threads")

if(CAIRN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# LibTorch (Debian's libtorch-dev, CPU). Only targets that train or serve
# link it; <torch/torch.h> stays out of widely included headers.
find_package(Torch REQUIRED)
message(STATUS "cairn: LibTorch ${Torch_VERSION} found at ${TORCH_INSTALL_PREFIX}")

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
  find_library(CAIRN_NCCL_LIBRARY nccl HINTS ${CUDAToolkit_LIBRARY_DIR} /usr/local/cuda/lib64)
  find_path(CAIRN_NCCL_INCLUDE nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS} /usr/local/cuda/include)
  if(NOT CAIRN_NCCL_LIBRARY OR NOT CAIRN_NCCL_INCLUDE)
    message(FATAL_ERROR "cairn: nvcc found but NCCL (libnccl, nccl.h) was not")
  endif()
  set(CAIRN_CUDA ON)
  list(JOIN CMAKE_CUDA_ARCHITECTURES ", sm_" _archs)
  message(STATUS "cairn: CUDA ${CMAKE_CUDA_COMPILER_VERSION} enabled for sm_${_archs}; NCCL ${CAIRN_NCCL_LIBRARY}")
elseif(NOT CAIRN_ENABLE_CUDA)
  message(STATUS "cairn: CUDA disabled (CAIRN_ENABLE_CUDA=OFF): CUDA kernels and NCCL are left out (CPU-only build)")
else()
  message(STATUS "cairn: nvcc not found: CUDA kernels and NCCL are left out (CPU-only build)")
endif()
