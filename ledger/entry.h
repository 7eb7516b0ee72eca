// Ledger entries: typed, versioned, signed records in canonical Cap'n Proto
// encoding (schema: runtime/wire/cairn.capnp, LedgerEntry; specification:
// docs/ledger.md).
//
// An entry's bytes are the canonical encoding of a LedgerEntry (one segment,
// no segment table). ValidateEntry is the gate every entry passes before it
// is stored or replayed: size limit, canonical form, version, known type,
// per-field limits, and the actor's Ed25519 signature. Code that reads an
// entry after validation may use Cap'n Proto readers freely.
// Thread safety: pure functions; EntryReader is a value owned by one thread.
#ifndef CAIRN_LEDGER_ENTRY_H_
#define CAIRN_LEDGER_ENTRY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <capnp/message.h>

#include "runtime/base/statusor.h"
#include "runtime/crypto/ed25519.h"
#include "runtime/wire/cairn.capnp.h"

namespace cairn::ledger {

namespace schema = ::cairn::wire::schema;

inline constexpr uint16_t kEntryVersion = 1;
inline constexpr size_t kMaxEntryBytes = 65528;  // whole canonical entry; fits the uint16 length of tlog-tiles entry bundles
inline constexpr size_t kMaxEntryText = 256;          // names, licenses, ids, memos
inline constexpr size_t kMaxEntryList = 1024;          // datasets, workers, shares
inline constexpr size_t kMaxChunkUses = 4096;          // StepReceipt.consumed
inline constexpr size_t kMaxTestPayload = 16 * 1024;
inline constexpr char kEntrySigningPrefix[] = "cairn/ledger-entry/v1\n";

using EntryType = schema::LedgerEntry::Body::Which;
// "stepReceipt" etc.; "unknown(N)" for anything else.
std::string EntryTypeName(EntryType type);

struct EntryHeader {
  EntryType type;
  int64_t timestamp_unix_millis = 0;
  std::string actor;  // 32-byte Ed25519 public key
};

// Checks everything listed above; InvalidArgument / OutOfRange /
// Unauthenticated naming the problem ("stepReceipt.consumed[3].datasetId
// must be 32 bytes", "signature does not verify", ...).
StatusOr<EntryHeader> ValidateEntry(std::string_view bytes);

// A reader over entry bytes (copied, aligned). Use only on validated bytes.
class EntryReader {
 public:
  static StatusOr<EntryReader> Open(std::string_view bytes);
  schema::LedgerEntry::Reader root() const;

 private:
  std::shared_ptr<const std::vector<uint64_t>> words_;
  std::shared_ptr<capnp::MessageReader> reader_;
};

// Builds a signed entry: sets version, timestamp and actor, lets `fill` set
// the body, signs, and returns the canonical bytes (validated before return).
using BodyFiller = std::function<void(schema::LedgerEntry::Body::Builder)>;
StatusOr<std::string> MakeEntry(const Ed25519PrivateKey& actor, int64_t timestamp_unix_millis,
                                const BodyFiller& fill);

// The bytes the actor signs for `entry` (signature field unset).
std::string EntrySigningBytes(schema::LedgerEntry::Reader entry);

// A Cap'n Proto Data view of a std::string (for builders).
inline capnp::Data::Reader AsData(const std::string& s) {
  return capnp::Data::Reader(reinterpret_cast<const kj::byte*>(s.data()), s.size());
}
inline std::string FromData(capnp::Data::Reader d) {
  return std::string(reinterpret_cast<const char*>(d.begin()), d.size());
}

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_ENTRY_H_
