// Real child processes: spawn with stdout captured, read lines, send real
// signals, reap. Used by the integration tests and by `cairn demo`. A child
// is killed if its parent dies (PR_SET_PDEATHSIG), so nothing outlives a
// demo or a test that is killed.
// Thread safety: one owner per Subprocess.
#ifndef CAIRN_RUNTIME_BASE_SUBPROCESS_H_
#define CAIRN_RUNTIME_BASE_SUBPROCESS_H_

#include <string>
#include <vector>

namespace cairn {

class Subprocess {
 public:
  // Starts argv[0] with argv; stdout is captured, and stderr too when
  // `merge_stderr`, else inherited.
  explicit Subprocess(const std::vector<std::string>& argv, bool merge_stderr = false);
  ~Subprocess();  // kills (SIGKILL) and reaps if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  bool started() const { return pid_ > 0; }
  // Next line of stdout without "\n"; false at EOF or after `timeout_ms`.
  bool ReadLine(std::string* line, int timeout_ms);
  // Everything up to EOF.
  std::string ReadAll();
  void Signal(int sig);
  // Waits for exit; returns the exit code, or 128 + signal.
  int Wait();
  // Asks it to stop (SIGTERM) and waits up to `timeout_ms` for it to exit;
  // false if it is still running (the destructor then kills it).
  bool Stop(int timeout_ms);

 private:
  int pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int status_ = 0;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

}  // namespace cairn

namespace cairn::testing {  // where the tests know them from
using cairn::FreePort;
using cairn::Subprocess;
}  // namespace cairn::testing

#endif  // CAIRN_RUNTIME_BASE_SUBPROCESS_H_
