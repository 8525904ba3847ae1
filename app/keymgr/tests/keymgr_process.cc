// KeymgrProcess: spawn, wait for the listening line, stop.
#include "keymgr_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>

extern char** environ;

namespace keymgr::test {

namespace {

std::vector<char*> argv_of(const std::vector<std::string>& args) {
  std::vector<char*> v;
  v.push_back(const_cast<char*>(KEYCAST_KEYMGR_BIN));
  for (const auto& a : args) v.push_back(const_cast<char*>(a.c_str()));
  v.push_back(nullptr);
  return v;
}

}  // namespace

TempDir::TempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "keycast-test-XXXXXX").string();
  if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
  path_ = t;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::uint16_t free_port(int type) {
  const int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  (void)::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  (void)::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

int run_keymgr(const std::vector<std::string>& args, std::string* output, std::chrono::milliseconds timeout) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid;
  auto argv = argv_of(args);
  const int rc = posix_spawn(&pid, KEYCAST_KEYMGR_BIN, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return -1;
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd pfd{fds[0], POLLIN, 0};
    const int ready = left.count() > 0 ? poll(&pfd, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      kill(pid, SIGKILL);
      out += "\n[killed after " + std::to_string(timeout.count()) + " ms]\n";
      break;
    }
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (output) *output = out;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::unique_ptr<KeymgrProcess> KeymgrProcess::start(const std::filesystem::path& dir, const std::string& config_text,
                                                    std::filesystem::path state_dir) {
  auto p = std::unique_ptr<KeymgrProcess>(new KeymgrProcess);
  p->config_ = dir / "keymgr.toml";
  p->state_dir_ = state_dir.empty() ? dir / "state" : state_dir;
  p->log_ = dir / ("keymgr-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log");
  std::ofstream(p->config_) << config_text;
  std::string out;
  if (run_keymgr({"init", "--config", p->config_.string(), "--state-dir", p->state_dir_.string()}, &out) != 0) {
    ADD_FAILURE() << "keycast-keymgr init failed: " << out;
    return nullptr;
  }

  int fds[2];
  if (pipe(fds) != 0) return nullptr;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, p->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  const std::vector<std::string> args = {"--config", p->config_.string(), "--state-dir", p->state_dir_.string()};
  auto argv = argv_of(args);
  const int rc = posix_spawn(&p->pid_, KEYCAST_KEYMGR_BIN, &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    ADD_FAILURE() << "cannot spawn " << KEYCAST_KEYMGR_BIN;
    return nullptr;
  }

  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char c[256];
    const ssize_t n = read(fds[0], c, sizeof c);
    if (n <= 0) break;
    line.append(c, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  std::smatch m;
  if (!std::regex_search(line, m, std::regex(R"(listening on \S+:(\d+))"))) {
    ADD_FAILURE() << "keycast-keymgr did not start: " << line << "\n" << p->log();
    return nullptr;
  }
  p->port_ = static_cast<std::uint16_t>(std::stoi(m[1]));
  return p;
}

KeymgrProcess::~KeymgrProcess() {
  if (pid_ > 0) stop(SIGKILL);
}

int KeymgrProcess::stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string KeymgrProcess::log() const {
  std::ifstream in(log_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace keymgr::test
