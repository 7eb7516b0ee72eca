# LibTorch: Debian's libtorch-dev (CPU) in the full build; PyTorch's (CUDA)
# in the GPU check (scripts/gpu-check passes its cmake prefix). Only targets
# that train, serve or wrap kernels link it; <torch/torch.h> stays out of
# widely included headers. Sets CAIRN_TORCH_CUDA when LibTorch has CUDA.
if(CAIRN_CUDA AND NOT DEFINED ENV{TORCH_CUDA_ARCH_LIST})
  # A CUDA LibTorch builds its -gencode flags from TORCH_CUDA_ARCH_LIST (or
  # from probing a GPU); give it ours: "80;90" -> "8.0;9.0".
  set(_list "")
  foreach(a IN LISTS CAIRN_CUDA_ARCHITECTURES)
    string(REGEX REPLACE "^([0-9]+)([0-9])$" "\\1.\\2" _a "${a}")
    list(APPEND _list "${_a}")
  endforeach()
  set(TORCH_CUDA_ARCH_LIST "${_list}")
endif()
find_package(Torch REQUIRED)
if(CAIRN_CUDA)
  set(CMAKE_CUDA_ARCHITECTURES ${CAIRN_CUDA_ARCHITECTURES})  # undo PyTorch's reset
endif()
set(CAIRN_TORCH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES AND CAIRN_CUDA)
  set(CAIRN_TORCH_CUDA ON)
endif()
message(STATUS "cairn: LibTorch ${Torch_VERSION} found at ${TORCH_INSTALL_PREFIX} (CUDA: ${CAIRN_TORCH_CUDA})")
