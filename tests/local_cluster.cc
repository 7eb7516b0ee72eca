#include "tests/local_cluster.h"

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "ledger/log_reader.h"

namespace cairn::testing {

nlohmann::json Json(const std::string& out) {
  size_t at = out.find_first_of("{[");
  return nlohmann::json::parse(at == std::string::npos ? out : out.substr(at), nullptr, false);
}

LocalCluster::LocalCluster(std::string binary, const std::string& tag)
    : binary_(std::move(binary)), dir_(tag), bus_port_(FreePort()), http_port_(FreePort()) {}

std::vector<std::string> LocalCluster::Env(const std::string& home) {
  return {"/usr/bin/env", "CAIRN_HOME=" + dir_.path() + "/" + home, "CAIRN_LOG_LEVEL=warn", binary_};
}

std::vector<std::string> LocalCluster::Where() {
  return {"--coordinator", "127.0.0.1:" + std::to_string(bus_port_), "--coordinator-http", std::to_string(http_port_)};
}

std::unique_ptr<Subprocess> LocalCluster::StartCoordinator(const std::vector<std::string>& extra) {
  auto argv = Env("coord-home");
  for (const char* a : {"coordinator", "--heartbeat-ms", "200", "--rendezvous-linger-seconds", "15"}) argv.push_back(a);
  argv.insert(argv.end(), {"--data-dir", dir_.path() + "/coord", "--bus", "tcp://127.0.0.1:" + std::to_string(bus_port_),
                           "--http", "127.0.0.1:" + std::to_string(http_port_)});
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto p = std::make_unique<Subprocess>(argv);
  std::string line;
  EXPECT_TRUE(p->ReadLine(&line, 15000));
  EXPECT_EQ(line, "coordinator ready");
  if (!funded_ && line == "coordinator ready") {  // train jobs are paid for from client-home's credits
    funded_ = true;
    Fund("client-home", "1000");
  }
  return p;
}

std::unique_ptr<Subprocess> LocalCluster::StartWorker(const std::string& name, const std::vector<std::string>& extra,
                                                      const std::vector<std::string>& env) {
  return StartWorkerVia(http_port_, name, extra, env);
}

std::unique_ptr<Subprocess> LocalCluster::StartWorkerVia(int http_port, const std::string& name,
                                                         const std::vector<std::string>& extra,
                                                         const std::vector<std::string>& env) {
  auto argv = Env("home-" + name);
  argv.insert(argv.begin() + 1, env.begin(), env.end());
  argv.insert(argv.end(), {"worker", "--name", name, "--measure-seconds", "0.2"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"--coordinator", "127.0.0.1:" + std::to_string(bus_port_), "--coordinator-http",
                           std::to_string(http_port)});
  auto p = std::make_unique<Subprocess>(argv);
  std::string line;
  EXPECT_TRUE(p->ReadLine(&line, 15000));  // "worker <id> ..."
  ids_[name] = line.size() > 7 ? line.substr(7, 32) : "";
  return p;
}

CliRun LocalCluster::Cairn(std::vector<std::string> args, const std::string& home, bool to_coordinator) {
  auto argv = Env(home);
  argv.insert(argv.end(), args.begin(), args.end());
  if (to_coordinator) {
    auto w = Where();
    argv.insert(argv.end(), w.begin(), w.end());
  }
  Subprocess p(argv, /*merge_stderr=*/true);
  std::string out = p.ReadAll();
  return {p.Wait(), out};
}

nlohmann::json LocalCluster::Status(const std::string& id) {
  auto r = Cairn({"status", id, "--json"});
  return r.code == 0 ? Json(r.out) : nlohmann::json{{"state", "?"}};
}

bool LocalCluster::WaitForWorkers(size_t n) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = Cairn({"workers", "--json"});
    if (r.code == 0) {
      size_t alive = 0;
      nlohmann::json j = Json(r.out);
      if (j.is_array()) {
        for (const auto& w : j) alive += w["alive"].get<bool>();
      }
      if (alive >= n) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string LocalCluster::Fund(const std::string& home, const std::string& credits) {
  const std::string account = Json(Cairn({"accounts", "create", "--json"}, home, false).out).value("account", "");
  auto r = Cairn({"accounts", "credit", account, credits, "--key", dir() + "/coord/log.key", "--memo", "test funds"},
                 "operator-home");
  if (account.empty() || r.code != 0) ADD_FAILURE() << "crediting " << home << " failed: " << r.out;
  return account;
}

std::string LocalCluster::Submit(const std::string& name, const std::string& yaml) {
  const std::string path = dir() + "/" + name + ".yaml";
  std::ofstream(path) << yaml;
  auto r = Cairn({"submit", path, "--json"});
  nlohmann::json j = Json(r.out);
  if (r.code != 0 || !j.is_object() || !j.contains("id")) {
    ADD_FAILURE() << "cairn submit " << path << " (exit " << r.code << "): " << r.out;
    return "";
  }
  return j["id"].get<std::string>();
}

std::vector<std::string> LocalCluster::LedgerEntries() {
  auto reader = ledger::NewHttpReader("http://127.0.0.1:" + std::to_string(http_port_));
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return {};
  // The log's size is the second line of its checkpoint (C2SP tlog-checkpoint).
  auto note = (*reader)->Checkpoint();
  EXPECT_TRUE(note.ok()) << note.status();
  if (!note.ok()) return {};
  const size_t nl = note->find('\n');
  const uint64_t size = std::stoull(note->substr(nl + 1, note->find('\n', nl + 1) - nl - 1));
  auto entries = (*reader)->Entries(0, size);
  EXPECT_TRUE(entries.ok()) << entries.status();
  return entries.ok() ? *entries : std::vector<std::string>{};
}

std::string LocalCluster::Logs(const std::string& id) { return Cairn({"logs", id}).out; }

bool LocalCluster::Poll(const std::function<bool()>& done, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

bool LocalCluster::WaitLogs(const std::string& id, const std::function<bool(const std::string&)>& pred, int seconds) {
  return Poll([&] { return pred(Logs(id)); }, seconds);
}

}  // namespace cairn::testing
