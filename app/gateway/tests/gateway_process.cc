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
#include <cstring>
#include <string_view>

extern char** environ;

namespace gateway::test {

namespace {
std::string prefix_stem() { return "kcgw-test-" + std::to_string(::getpid()) + "-"; }

using Clock = std::chrono::steady_clock;
std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}
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

std::string endless_input_vdev(const std::filesystem::path& pcap) {
  return "net_pcap0,rx_pcap=" + pcap.string() + ",infinite_rx=1";
}

GatewayChild::GatewayChild(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int fds[2];
  if (::pipe(fds) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(KEYCAST_GATEWAY_BIN));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e; ++e) {
    const std::string_view name(*e, std::strcspn(*e, "="));
    bool replaced = false;
    for (const auto& mine : env) replaced |= mine.compare(0, name.size() + 1, std::string(name) + "=") == 0;
    if (!replaced) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  pid_t pid;
  const int rc = ::posix_spawn(&pid, KEYCAST_GATEWAY_BIN, &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    output_ = "cannot spawn " KEYCAST_GATEWAY_BIN;
    return;
  }
  pid_ = pid;
  fd_ = fds[0];
}

GatewayChild::~GatewayChild() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (fd_ >= 0) ::close(fd_);
}

bool GatewayChild::pump(int timeout_ms) {
  if (fd_ < 0) return false;
  pollfd pfd{fd_, POLLIN, 0};
  const int ready = ::poll(&pfd, 1, timeout_ms);
  if (ready <= 0) return ready == 0 || errno == EINTR;
  char buf[4096];
  const ssize_t n = ::read(fd_, buf, sizeof buf);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool GatewayChild::wait_for(const std::string& text, std::chrono::milliseconds timeout) {
  const auto start = Clock::now();
  while (output_.find(text) == std::string::npos) {
    if (since(start) >= timeout || !pump(50)) return output_.find(text) != std::string::npos;
  }
  return true;
}

bool GatewayChild::collect_for(std::chrono::milliseconds duration) {
  const auto start = Clock::now();
  while (since(start) < duration)
    if (!pump(50)) return false;
  return true;
}

GatewayRun GatewayChild::finish(int sig, std::chrono::milliseconds timeout) {
  GatewayRun r;
  if (pid_ <= 0) {
    r.output = output_;
    return r;
  }
  if (sig) ::kill(pid_, sig);
  const auto start = Clock::now();
  while (pump(50)) {
    if (since(start) >= timeout) {
      ::kill(pid_, SIGKILL);
      output_ += "\n[killed after " + std::to_string(timeout.count()) + " ms]\n";
      break;
    }
  }
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = output_;
  if (std::getenv("KEYCAST_TEST_VERBOSE")) std::fprintf(stderr, "--- keycast-gateway (exit %d):\n%s\n", r.exit_code, r.output.c_str());
  return r;
}

GatewayRun run_gateway(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                       std::chrono::milliseconds stop_after) {
  GatewayChild child(args);
  const auto start = Clock::now();
  if (stop_after.count()) {
    const bool alive = child.collect_for(stop_after);
    return child.finish(alive ? SIGTERM : 0, timeout - since(start));
  }
  return child.finish(0, timeout);
}

}  // namespace gateway::test
