// The conformance suite every LedgerStore backend passes (cf. Trillian's
// storage tests). A backend instantiates it in its own test file:
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreConformance, testing::Values(StoreBackend{...}));
#ifndef CAIRN_LEDGER_STORE_CONFORMANCE_H_
#define CAIRN_LEDGER_STORE_CONFORMANCE_H_

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "ledger/store.h"

namespace cairn::ledger {

struct StoreBackend {
  std::string name;
  // Opens the store kept in `dir` (a fresh directory per test). Calling it
  // again on the same dir must reopen the same data if `persistent`.
  std::function<StatusOr<std::unique_ptr<LedgerStore>>(const std::string& dir)> open;
  bool persistent = false;
};

class StoreConformance : public ::testing::TestWithParam<StoreBackend> {};

std::string BackendName(const ::testing::TestParamInfo<StoreBackend>& info);

}  // namespace cairn::ledger

#endif  // CAIRN_LEDGER_STORE_CONFORMANCE_H_
