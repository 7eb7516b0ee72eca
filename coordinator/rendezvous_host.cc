#include "coordinator/rendezvous_host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <thread>

#include <nlohmann/json.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "runtime/base/files.h"
#include "runtime/base/log.h"

namespace cairn::coordinator {
namespace {

c10::intrusive_ptr<c10d::TCPStore> ServeStore(int port) {
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<uint16_t>(port);
  opts.isServer = true;
  opts.waitWorkers = false;
  opts.timeout = std::chrono::minutes(10);
  return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
}

bool Listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  ::close(fd);
  return ok;
}

bool IsOurHost(int pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  auto cmdline = ReadFileToString("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline.ok() && cmdline->find("rendezvous-host") != std::string::npos;
}

// {"pid", "port"} of the host recorded in `dir`, or {0, 0}.
std::pair<int, int> Recorded(const std::string& dir) {
  auto text = ReadFileToString(dir + "/rendezvous.json");
  if (!text.ok()) return {0, 0};
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (!j.is_object()) return {0, 0};
  return {j.value("pid", 0), j.value("port", 0)};
}

void TouchFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ::futimens(fd, nullptr);  // now
  ::close(fd);
}

std::atomic<bool> g_host_stop{false};
extern "C" void OnHostSignal(int) { g_host_stop = true; }

}  // namespace

struct RendezvousHost::Store {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

StatusOr<std::unique_ptr<RendezvousHost>> RendezvousHost::Start(const RendezvousOptions& options) {
  std::unique_ptr<RendezvousHost> h(new RendezvousHost());
  h->options_ = options;
  if (options.mode == RendezvousOptions::kInProcess) {
    try {
      h->store_ = std::make_unique<Store>();
      h->store_->store = ServeStore(0);
      h->port_ = static_cast<int>(h->store_->store->getPort());
    } catch (const std::exception& e) {
      return UnavailableError(std::string("cannot start the rendezvous store: ") + e.what());
    }
    return h;
  }
  TouchFile(options.data_dir + "/rendezvous.alive");
  auto [pid, port] = Recorded(options.data_dir);
  if (IsOurHost(pid) && Listening(port)) {  // it outlived the last coordinator: training groups still meet there
    h->pid_ = pid;
    h->port_ = port;
    CAIRN_LOG_INFO("rendezvous: reusing the store of process {} on port {}", pid, port);
    return h;
  }
  const std::string log = options.data_dir + "/rendezvous.log";
  const std::string linger = std::to_string(options.linger_seconds);
  std::vector<std::string> args = {options.binary, "rendezvous-host", "--data-dir", options.data_dir,
                                   "--linger-seconds", linger};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t child = ::fork();
  if (child < 0) return UnavailableError("fork for the rendezvous host failed");
  if (child == 0) {
    // A grandchild in its own session: it outlives this process on purpose.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (in >= 0) ::dup2(in, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < until) {
    auto [new_pid, new_port] = Recorded(options.data_dir);
    if (new_pid != pid && IsOurHost(new_pid) && Listening(new_port)) {
      h->pid_ = new_pid;
      h->port_ = new_port;
      return h;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));  // the host starting up
  }
  return UnavailableError("the rendezvous host did not start (see " + log + ")");
}

RendezvousHost::~RendezvousHost() {
  std::thread marker;
  {
    MutexLock lock(&mu_);
    stop_ = true;
    marker = std::move(marker_);
  }
  wake_.SignalAll();
  if (marker.joinable()) marker.join();
}

void RendezvousHost::Touch() {
  if (options_.mode == RendezvousOptions::kDetached) TouchFile(options_.data_dir + "/rendezvous.alive");
}

void RendezvousHost::MarkGone(const std::string& job_id, uint32_t attempt, uint32_t uid, const std::string& secret) {
  MutexLock lock(&mu_);
  if (stop_) return;
  gone_.push_back(Gone{job_id, attempt, uid, secret});
  if (!marker_.joinable()) marker_ = std::thread([this] { MarkLoop(); });
  wake_.Signal();
}

void RendezvousHost::MarkLoop() {
  for (;;) {
    Gone g;
    {
      MutexLock lock(&mu_);
      while (gone_.empty() && !stop_) wake_.Wait(&mu_);
      if (stop_) return;
      g = gone_.front();
      gone_.pop_front();
    }
    for (int i = 0; i < 10 && !Write(g); ++i) {
      MutexLock lock(&mu_);
      if (!stop_) wake_.WaitFor(&mu_, std::chrono::seconds(1));  // a new MarkGone may cut it short
      if (stop_) return;
    }
  }
}

bool RendezvousHost::Write(const Gone& g) {
  try {
    if (!store_) {
      c10d::TCPStoreOptions opts;
      opts.port = static_cast<uint16_t>(port_);
      opts.isServer = false;
      opts.waitWorkers = false;
      opts.timeout = std::chrono::seconds(1);
      store_ = std::make_unique<Store>();
      store_->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
    }
    c10d::PrefixStore attempt_store(g.job_id + "/" + std::to_string(g.attempt) + (g.secret.empty() ? "" : "/" + g.secret),
                                    store_->store);
    const std::string yes = "1";
    attempt_store.set("gone/" + std::to_string(g.uid), std::vector<uint8_t>(yes.begin(), yes.end()));
    return true;
  } catch (const std::exception& e) {
    if (options_.mode == RendezvousOptions::kDetached) store_.reset();  // reconnect next time
    CAIRN_LOG_WARN("rendezvous: cannot mark uid {} of {} gone (yet): {}", g.uid, g.job_id, e.what());
    return false;
  }
}

void RendezvousHost::Stop() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
  pid_ = 0;
}

Status RunRendezvousHost(const std::string& data_dir, int port, int linger_seconds) {
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = ServeStore(port);
  } catch (const std::exception& e) {
    return UnavailableError(std::string("cannot start the rendezvous store: ") + e.what());
  }
  const std::string alive = data_dir + "/rendezvous.alive";
  TouchFile(alive);
  nlohmann::json j{{"pid", static_cast<int>(::getpid())}, {"port", static_cast<int>(store->getPort())}};
  RETURN_IF_ERROR(WriteFileAtomically(data_dir + "/rendezvous.json", j.dump() + "\n"));
  std::signal(SIGTERM, OnHostSignal);
  std::signal(SIGINT, OnHostSignal);
  std::printf("rendezvous store on port %d for %s\n", static_cast<int>(store->getPort()), data_dir.c_str());
  std::fflush(stdout);
  time_t last_alive = ::time(nullptr);
  while (!g_host_stop) {
    struct stat st {};
    if (::stat(alive.c_str(), &st) == 0) last_alive = st.st_mtime;  // gone (the directory removed): as of the last look
    if (::time(nullptr) - last_alive > linger_seconds) {
      std::printf("no coordinator for %d s: exiting\n", linger_seconds);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polls the coordinator's keep-alive
  }
  return OkStatus();
}

}  // namespace cairn::coordinator
