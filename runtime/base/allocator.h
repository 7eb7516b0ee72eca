// Allocator settings for long-running servers (the coordinator).
//
// Under load, ZeroMQ's I/O thread allocates and frees a message buffer per
// frame; glibc grows and trims that thread's arena heap to follow, with one
// mprotect/munmap per cycle, and each of those flushes the TLB on every
// core (IPIs). In the heartbeat benchmark (bench/heartbeat_bench.cc) that
// was half of all CPU time. A larger trim threshold and top pad let the
// arena keep what it just used: at most ~80 MiB per arena held, in exchange.
// Thread safety: call once, early, before threads start.
#ifndef CAIRN_RUNTIME_BASE_ALLOCATOR_H_
#define CAIRN_RUNTIME_BASE_ALLOCATOR_H_

namespace cairn {

void TuneAllocatorForServers();

}  // namespace cairn

#endif  // CAIRN_RUNTIME_BASE_ALLOCATOR_H_
