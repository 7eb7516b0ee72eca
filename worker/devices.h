// What a worker offers: its devices (CUDA GPUs if any are visible, else the
// CPU) and the local address peers reach it at.
// Thread safety: pure functions.
#ifndef CAIRN_WORKER_DEVICES_H_
#define CAIRN_WORKER_DEVICES_H_

#include <string>
#include <vector>

#include "runtime/base/statusor.h"
#include "runtime/wire/messages.h"

namespace cairn::worker {

// `want`: "auto" (GPUs if any, else the CPU), "cpu", or "cuda"
// (FailedPrecondition when no CUDA device is visible).
StatusOr<std::vector<wire::Device>> DetectDevices(const std::string& want);

// The local address this machine uses to reach `host` (a connected UDP
// socket sends nothing): the address peers can reach this worker at (its
// Gloo device, its rendezvous store, its serving replica), which the host
// name may not resolve to (containers, network namespaces, several
// interfaces). "" if unknown.
std::string LocalAddressToward(const std::string& host);

}  // namespace cairn::worker

#endif  // CAIRN_WORKER_DEVICES_H_
