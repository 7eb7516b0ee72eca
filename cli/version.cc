#include <string>

#include <capnp/common.h>
#include <openssl/crypto.h>
#include <zmq.h>

#include "cli/commands.h"
#include "kernels/device_info.h"

namespace cairn::cli {

std::string VersionText() {
  int zmaj, zmin, zpat;
  zmq_version(&zmaj, &zmin, &zpat);
  std::string cuda = kernels::BuiltWithCuda() ? "CUDA " + kernels::CudaRuntimeVersion() +
                                                    ", NCCL " + kernels::NcclVersion()
                                              : std::string("CUDA not built in (CPU only)");
  auto devices = kernels::ListCudaDevices();
  std::string gpus = devices.ok() ? std::to_string(devices->size()) + " visible" : devices.status().ToString();
  return std::string("cairn ") + CAIRN_VERSION + " (" + CAIRN_GIT_REV + ")\n" +
         "  LibTorch " + CAIRN_TORCH_VERSION + "\n" +
         "  " + cuda + "; GPUs: " + gpus + "\n" +
         "  " + OpenSSL_version(OPENSSL_VERSION) + "\n" +
         "  ZeroMQ " + std::to_string(zmaj) + "." + std::to_string(zmin) + "." + std::to_string(zpat) +
         (zmq_has("curve") ? " (CURVE)" : " (no CURVE!)") + "\n" +
         "  Cap'n Proto " + std::to_string(CAPNP_VERSION_MAJOR) + "." + std::to_string(CAPNP_VERSION_MINOR) + "." +
         std::to_string(CAPNP_VERSION_MICRO);
}

int ReportStatus(const Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "cairn: error: %s\n", status.ToString().c_str());
  return 1;
}

}  // namespace cairn::cli
