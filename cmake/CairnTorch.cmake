# LibTorch: PyPI's torch wheel (CPU and CUDA in one), installed by
# scripts/setup into .venv/ (scripts/torch-requirements.txt), or the one a
# machine already has (scripts/gpu-check passes the GPU machine's PyTorch as
# CAIRN_TORCH_PREFIX). Debian's libtorch-dev is not used. Only targets that
# train, serve or wrap kernels link it; <torch/torch.h> stays out of widely
# included headers.
#
# Sets CAIRN_TORCH_PREFIX (site-packages/torch), CAIRN_WHEEL_LIBDIRS (the
# NVIDIA wheels' lib folders, first in every rpath) and CAIRN_WHEEL_NCCL (the
# wheel's NCCL folder, if any). Included before CairnCuda, which sets
# CAIRN_TORCH_CUDA.
set(CAIRN_TORCH_PREFIX "" CACHE PATH "The torch package folder (site-packages/torch); empty: .venv's")
if(NOT CAIRN_TORCH_PREFIX)
  file(GLOB _found "${PROJECT_SOURCE_DIR}/.venv/lib/python3*/site-packages/torch/share/cmake/Torch/TorchConfig.cmake")
  if(NOT _found)
    message(FATAL_ERROR "cairn: LibTorch not found in ${PROJECT_SOURCE_DIR}/.venv/ "
                        "(run scripts/setup --deps, or pass -DCAIRN_TORCH_PREFIX=<site-packages>/torch)")
  endif()
  list(GET _found 0 _found)
  get_filename_component(_prefix "${_found}/../../../.." ABSOLUTE)
  set(CAIRN_TORCH_PREFIX "${_prefix}" CACHE PATH "The torch package folder (site-packages/torch); empty: .venv's" FORCE)
endif()
if(NOT EXISTS "${CAIRN_TORCH_PREFIX}/share/cmake/Torch/TorchConfig.cmake")
  message(FATAL_ERROR "cairn: CAIRN_TORCH_PREFIX=${CAIRN_TORCH_PREFIX} holds no share/cmake/Torch/TorchConfig.cmake")
endif()
set(Torch_DIR "${CAIRN_TORCH_PREFIX}/share/cmake/Torch" CACHE PATH "" FORCE)
get_filename_component(_site "${CAIRN_TORCH_PREFIX}/.." ABSOLUTE)

# The NVIDIA runtime wheels beside torch (absent for a CPU-only wheel).
file(GLOB CAIRN_WHEEL_LIBDIRS LIST_DIRECTORIES true "${_site}/nvidia/*/lib")
set(_cudart "")
foreach(d IN LISTS CAIRN_WHEEL_LIBDIRS)
  if(EXISTS "${d}/libcudart.so.13")
    set(_cudart "${d}/libcudart.so.13")
  elseif(NOT _cudart AND EXISTS "${d}/libcudart.so.12")
    set(_cudart "${d}/libcudart.so.12")
  endif()
endforeach()
# torch::cudart is the wheel's own CUDA runtime, defined before TorchConfig
# so that its cuda.cmake (which would look for a toolkit of the very same
# version, and reset CMAKE_CUDA_ARCHITECTURES) stands down: a CUDA LibTorch
# then builds on a machine with no CUDA toolkit at all, and where nvcc does
# exist the process still loads one CUDA runtime, the wheel's.
if(_cudart AND NOT TARGET torch::cudart)
  add_library(torch::cudart INTERFACE IMPORTED)
  set_property(TARGET torch::cudart PROPERTY INTERFACE_LINK_LIBRARIES "${_cudart}")
endif()
# TorchConfig's find_library calls search CMAKE_PREFIX_PATH before its own
# folder: the wheel first, or a distribution's libtorch.so would be taken.
list(PREPEND CMAKE_PREFIX_PATH "${CAIRN_TORCH_PREFIX}")
# A LibTorch not from PyPI (no runtime wheel beside it) runs its cuda.cmake,
# which resets CMAKE_CUDA_ARCHITECTURES: the caller's choice is put back.
set(_cuda_archs_before "${CMAKE_CUDA_ARCHITECTURES}")
find_package(Torch REQUIRED)
if(_cuda_archs_before)
  set(CMAKE_CUDA_ARCHITECTURES "${_cuda_archs_before}")
elseif(NOT CMAKE_CUDA_ARCHITECTURES)
  unset(CMAKE_CUDA_ARCHITECTURES)
  unset(CMAKE_CUDA_ARCHITECTURES CACHE)
endif()
set(CAIRN_TORCH_CUDART "${_cudart}")
foreach(_lib IN LISTS TORCH_LIBRARY C10_CUDA_LIBRARY TORCH_CPU_LIBRARY C10_LIBRARY)
  if(_lib AND NOT _lib MATCHES "^${CAIRN_TORCH_PREFIX}/")
    message(FATAL_ERROR "cairn: LibTorch library ${_lib} is not the wheel's (${CAIRN_TORCH_PREFIX}/lib): "
                        "another LibTorch shadows it (remove Debian's libtorch-dev)")
  endif()
endforeach()


# The wheel bundles its own fmt (a newer major) under torch/include, which
# would shadow Debian's fmt that spdlog was built against: Debian's comes
# first, through a folder that holds only a link to it (a folder of its own,
# since /usr/include itself cannot be put before torch's).
if(TARGET fmt::fmt AND EXISTS "${CAIRN_TORCH_PREFIX}/include/fmt")
  get_target_property(_fmt_inc fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  list(GET _fmt_inc 0 _fmt_inc)
  if(EXISTS "${_fmt_inc}/fmt/format.h")
    set(_fmt_dir "${PROJECT_BINARY_DIR}/debian-fmt")
    file(MAKE_DIRECTORY "${_fmt_dir}")
    file(CREATE_LINK "${_fmt_inc}/fmt" "${_fmt_dir}/fmt" SYMBOLIC)
    include_directories(BEFORE SYSTEM "${_fmt_dir}")
  endif()
endif()

# Every binary finds the wheel's NVIDIA libraries before any other copy
# (the system NCCL lacks symbols libtorch_cuda needs), then LibTorch's own.
set(CMAKE_BUILD_RPATH ${CAIRN_WHEEL_LIBDIRS} "${CAIRN_TORCH_PREFIX}/lib")
set(CAIRN_WHEEL_NCCL "")
if(EXISTS "${_site}/nvidia/nccl/include/nccl.h")
  set(CAIRN_WHEEL_NCCL "${_site}/nvidia/nccl")
endif()
set(_has_cuda "no")
if(TORCH_CUDA_LIBRARIES)
  set(_has_cuda "yes, runtime ${_cudart}")
endif()
message(STATUS "cairn: LibTorch ${Torch_VERSION} from ${CAIRN_TORCH_PREFIX} (CUDA: ${_has_cuda})")
