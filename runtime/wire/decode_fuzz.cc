// libFuzzer target for everything a peer's bytes reach before a handler:
// the type frame parser and the decoder of every message type.
// Build: CC=clang CXX=clang++ cmake -DCAIRN_FUZZ=ON ...; run: see docs/wire.md.
// Input layout: byte 0 selects what to fuzz; the rest is the frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "runtime/wire/codec.h"

using namespace cairn::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view frame(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 12) {
    case 0: (void)ParseTypeFrame(frame); break;
    case 1: { ErrorReply m; (void)Decode(frame, &m); break; }
    case 2: {
      WorkerHello m;
      if (Decode(frame, &m).ok()) (void)WorkerHelloSigningBytes(m);  // re-encoding must not fail either
      break;
    }
    case 3: { Welcome m; (void)Decode(frame, &m); break; }
    case 4: { Heartbeat m; (void)Decode(frame, &m); break; }
    case 5: {
      ClientRequest m;
      if (Decode(frame, &m).ok()) (void)Encode(m);
      break;
    }
    case 6: {
      ClientReply m;
      if (Decode(frame, &m).ok()) (void)Encode(m);
      break;
    }
    case 7: {
      TaskAssign m;
      if (Decode(frame, &m).ok()) (void)Encode(m);
      break;
    }
    case 8: { TaskRevoke m; (void)Decode(frame, &m); break; }
    case 9: {
      TaskUpdate m;
      if (Decode(frame, &m).ok()) (void)Encode(m);
      break;
    }
    case 10: { Goodbye m; (void)Decode(frame, &m); break; }
    case 11: { Ack m; (void)Decode(frame, &m); break; }
  }
  return 0;
}
