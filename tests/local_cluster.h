// Test harness: cairn as users run it on one machine — a `cairn
// coordinator` process and `cairn worker` processes on loopback ports, and
// client verbs run as separate `cairn` processes (stdout and stderr
// merged). Each role has its own CAIRN_HOME under one temporary directory.
// Thread safety: one test thread.
#ifndef CAIRN_TESTS_LOCAL_CLUSTER_H_
#define CAIRN_TESTS_LOCAL_CLUSTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/base/temp_dir.h"
#include "runtime/base/subprocess.h"

namespace cairn::testing {

struct CliRun {
  int code;
  std::string out;
};

// The JSON document in a command's output (notes such as "pinned
// coordinator ..." may come first on stderr, which is merged).
nlohmann::json Json(const std::string& out);

class LocalCluster {
 public:
  // `binary`: the cairn executable; `tag`: the temp dir's name prefix.
  LocalCluster(std::string binary, const std::string& tag);

  std::unique_ptr<Subprocess> StartCoordinator(const std::vector<std::string>& extra = {});
  // `env`: NAME=VALUE settings for this worker only (CAIRN_TEST_MISBEHAVE).
  std::unique_ptr<Subprocess> StartWorker(const std::string& name, const std::vector<std::string>& extra = {},
                                          const std::vector<std::string>& env = {});
  // A worker that reaches the coordinator's HTTP port at `http_port` (a
  // proxy in between, say).
  std::unique_ptr<Subprocess> StartWorkerVia(int http_port, const std::string& name,
                                             const std::vector<std::string>& extra = {},
                                             const std::vector<std::string>& env = {});
  // Every entry of the coordinator's ledger, read over its HTTP read API as
  // an auditor reads it (bytes, in log order).
  std::vector<std::string> LedgerEntries();
  // A client verb; the coordinator's address is appended when asked.
  CliRun Cairn(std::vector<std::string> args, const std::string& home = "client-home", bool to_coordinator = true);
  nlohmann::json Status(const std::string& id);
  // Writes `yaml` to DIR/NAME.yaml and submits it; the job id, or "" (with
  // a test failure naming what `cairn submit` printed). The first
  // StartCoordinator funds client-home with 1,000 credits (train jobs pay).
  std::string Submit(const std::string& name, const std::string& yaml);
  // Credits `home`'s account with `credits` (signed with the coordinator's
  // log key, as the operator); returns the account (64 hex digits).
  std::string Fund(const std::string& home, const std::string& credits);
  // True once `n` workers are alive (10 s at most).
  bool WaitForWorkers(size_t n);
  // A job's log (`cairn logs ID`), and polling until `pred(log)` holds (or
  // `seconds` pass).
  std::string Logs(const std::string& id);
  bool WaitLogs(const std::string& id, const std::function<bool(const std::string&)>& pred, int seconds);
  // Polls `done` every 250 ms until it holds (true) or `seconds` pass (false).
  static bool Poll(const std::function<bool()>& done, int seconds);
  std::vector<std::string> Env(const std::string& home);
  std::vector<std::string> Where();
  const std::string& dir() const { return dir_.path(); }
  int http_port() const { return http_port_; }
  // Worker name -> the id it printed at start.
  std::map<std::string, std::string> ids_;

 protected:
  std::string binary_;
  ScopedTempDir dir_;
  int bus_port_ = 0, http_port_ = 0;
  bool funded_ = false;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTS_LOCAL_CLUSTER_H_
