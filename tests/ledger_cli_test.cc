// The `cairn ledger` verbs as a user runs them, as real processes: init,
// load, query a data directory, serve it over HTTP and audit it from the
// URL, consistency against a saved checkpoint, and a tampered copy that
// `verify` refuses naming the entry.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "runtime/base/temp_dir.h"
#include "runtime/base/subprocess.h"

namespace cairn {
namespace {

struct CliRun {
  int code;
  std::string out;
};

CliRun Cairn(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CAIRN_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Subprocess p(argv);
  std::string out = p.ReadAll();
  return {p.Wait(), out};
}

TEST(LedgerCli, InitLoadQueryServeAndAudit) {
  ScopedTempDir tmp("cairn-ledger-cli");
  std::string dir = tmp.path() + "/ledger";
  ASSERT_EQ(Cairn({"ledger", "init", "--data-dir", dir, "--origin", "cairn.test/cli"}).code, 0);
  EXPECT_EQ(Cairn({"ledger", "init", "--data-dir", dir}).code, 1);  // never overwrites a ledger
  std::string vkey = Cairn({"ledger", "vkey", "--data-dir", dir}).out;
  vkey = vkey.substr(0, vkey.find('\n'));
  ASSERT_EQ(vkey.rfind("cairn.test/cli+", 0), 0u) << vkey;

  CliRun load = Cairn({"ledger", "load", "--data-dir", dir, "--entries", "600", "--json"});
  ASSERT_EQ(load.code, 0) << load.out;
  EXPECT_EQ(nlohmann::json::parse(load.out)["log_size"], 600);
  CliRun cp = Cairn({"ledger", "checkpoint", "--data-dir", dir});
  ASSERT_EQ(cp.code, 0);
  EXPECT_EQ(cp.out.rfind("cairn.test/cli\n600\n", 0), 0u) << cp.out;
  std::string saved = tmp.path() + "/cp600";
  std::ofstream(saved) << cp.out;

  CliRun get = Cairn({"ledger", "get", "42", "--data-dir", dir});
  ASSERT_EQ(get.code, 0) << get.out;
  auto j = nlohmann::json::parse(get.out);
  EXPECT_EQ(j["entry"]["type"], "test");
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(Cairn({"ledger", "get", "600", "--data-dir", dir}).code, 1);
  CliRun verify = Cairn({"ledger", "verify", dir});
  ASSERT_EQ(verify.code, 0) << verify.out;
  EXPECT_NE(verify.out.find("ok: 600 entries"), std::string::npos);

  // Serve it and audit from the URL, pinning the key.
  int port = testing::FreePort();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  testing::Subprocess server({CAIRN_BINARY, "ledger", "serve", "--data-dir", dir, "--listen",
                              "127.0.0.1:" + std::to_string(port)});
  std::string line;
  ASSERT_TRUE(server.ReadLine(&line, 10000));
  EXPECT_NE(line.find("serving ledger"), std::string::npos) << line;
  CliRun remote = Cairn({"ledger", "verify", url, "--vkey", vkey, "--json"});
  ASSERT_EQ(remote.code, 0) << remote.out;
  EXPECT_EQ(nlohmann::json::parse(remote.out)["entries"], 600);
  CliRun remote_get = Cairn({"ledger", "prove", "599", "--url", url, "--vkey", vkey});
  ASSERT_EQ(remote_get.code, 0) << remote_get.out;
  // Another log's key under the same name: nothing verifies.
  ASSERT_EQ(Cairn({"ledger", "init", "--data-dir", tmp.path() + "/other", "--origin", "cairn.test/cli"}).code, 0);
  std::string other_vkey = Cairn({"ledger", "vkey", "--data-dir", tmp.path() + "/other"}).out;
  other_vkey = other_vkey.substr(0, other_vkey.find('\n'));
  CliRun wrong_key = Cairn({"ledger", "verify", url, "--vkey", other_vkey});
  EXPECT_EQ(wrong_key.code, 1);

  // The log grows; the old checkpoint is provably a prefix of the new one.
  ASSERT_EQ(Cairn({"ledger", "load", "--data-dir", dir, "--entries", "100"}).code, 0);
  CliRun balances = Cairn({"ledger", "balances", "--url", url, "--vkey", vkey});
  EXPECT_EQ(balances.code, 0) << balances.out;
  // (The server process keeps its own Log; entries appended by another
  // process show after it restarts, so check consistency on the data dir.)
  CliRun cons = Cairn({"ledger", "consistency", "600", "--data-dir", dir, "--from-checkpoint", saved});
  ASSERT_EQ(cons.code, 0) << cons.out;
  EXPECT_EQ(nlohmann::json::parse(cons.out)["verified"], true);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);

  // One changed byte in a copy: verify names the entry and fails.
  std::string bad = tmp.path() + "/tampered";
  std::filesystem::copy(dir, bad);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((bad + "/ledger.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE entries SET data = substr(data, 1, 40) || CASE WHEN substr(data, 41, 1) = x'00' THEN x'01' ELSE x'00' END || substr(data, 42) WHERE idx = 77", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  CliRun tampered = Cairn({"ledger", "verify", bad});
  EXPECT_EQ(tampered.code, 1) << tampered.out;
}

TEST(LedgerCli, HelpOnEveryVerb) {
  for (const char* verb : {"init", "vkey", "serve", "load", "checkpoint", "get", "prove", "consistency", "verify",
                           "balances"}) {
    CliRun r = Cairn({"ledger", verb, "--help"});
    EXPECT_EQ(r.code, 0) << verb;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << verb;
  }
  CliRun missing = Cairn({"ledger", "checkpoint", "--data-dir", "/nonexistent/ledger"});
  EXPECT_EQ(missing.code, 1);
}

}  // namespace
}  // namespace cairn
