#include "runtime/base/allocator.h"

#include <malloc.h>

namespace cairn {

void TuneAllocatorForServers() {
  mallopt(M_TRIM_THRESHOLD, 64 << 20);  // give memory back only beyond 64 MiB of free top
  mallopt(M_TOP_PAD, 16 << 20);         // and grow by 16 MiB at a time
}

}  // namespace cairn
