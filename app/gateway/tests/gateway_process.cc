// Spawning keycast-gateway and collecting its output.
#include "gateway_process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

extern char** environ;

namespace gateway::test {

namespace {
std::string prefix_stem() { return "kcgw-test-" + std::to_string(::getpid()) + "-"; }
}  // namespace

void remove_runtime_dirs() {
  std::error_code ec;
  const std::filesystem::path root = "/var/run/dpdk";
  for (const auto& e : std::filesystem::directory_iterator(root, ec))
    if (e.path().filename().string().rfind(prefix_stem(), 0) == 0) std::filesystem::remove_all(e.path(), ec);
}

std::vector<std::string> eal_args(const std::vector<std::string>& vdevs) {
  static std::atomic<int> n{0};
  std::vector<std::string> a = {"--no-huge", "-m", "512", "--no-pci", "-l", "0-1", "--log-level", "lib.eal:error",
                                "--file-prefix", prefix_stem() + std::to_string(n++)};
  for (const auto& v : vdevs) {
    a.push_back("--vdev");
    a.push_back(v);
  }
  return a;
}

GatewayRun run_gateway(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds stop_after) {
  GatewayRun r;
  int fds[2];
  if (::pipe(fds) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(KEYCAST_GATEWAY_BIN));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  const int rc = ::posix_spawn(&pid, KEYCAST_GATEWAY_BIN, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.output = "cannot spawn " KEYCAST_GATEWAY_BIN;
    return r;
  }
  const auto start = std::chrono::steady_clock::now();
  bool stopped = false;
  for (;;) {
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (stop_after.count() && !stopped && elapsed >= stop_after) {
      ::kill(pid, SIGTERM);
      stopped = true;
    }
    if (elapsed >= timeout) {
      ::kill(pid, SIGKILL);
      r.output += "\n[killed after " + std::to_string(timeout.count()) + " ms]\n";
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = ::poll(&pfd, 1, 50);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (std::getenv("KEYCAST_TEST_VERBOSE")) std::fprintf(stderr, "--- keycast-gateway (exit %d):\n%s\n", r.exit_code, r.output.c_str());
  return r;
}

}  // namespace gateway::test
