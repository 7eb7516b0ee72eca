# LibTorch: Debian's libtorch-dev (CPU) in the full build; PyTorch's (CUDA)
# in the GPU check (scripts/gpu-check passes its cmake prefix). Only targets
# that train, serve or wrap kernels link it; <torch/torch.h> stays out of
# widely included headers. Sets CAIRN_TORCH_CUDA when LibTorch has CUDA.
find_package(Torch REQUIRED)
set(CAIRN_TORCH_CUDA OFF)
if(TORCH_CUDA_LIBRARIES AND CAIRN_CUDA)
  set(CAIRN_TORCH_CUDA ON)
endif()
message(STATUS "cairn: LibTorch ${Torch_VERSION} found at ${TORCH_INSTALL_PREFIX} (CUDA: ${CAIRN_TORCH_CUDA})")
