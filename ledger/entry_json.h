// A ledger entry as JSON for people and scripts (the read API's /entry and
// `cairn ledger get`). Keys and hashes are lowercase hex; amounts are
// integer micro-credits. Only for validated entries.
// Thread safety: pure function.
#ifndef CAIRN_LEDGER_ENTRY_JSON_H_
#define CAIRN_LEDGER_ENTRY_JSON_H_

#include <nlohmann/json.hpp>

#include "runtime/base/statusor.h"

namespace cairn::ledger {

StatusOr<nlohmann::json> EntryToJson(std::string_view entry);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_ENTRY_JSON_H_
