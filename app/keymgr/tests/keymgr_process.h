// Runs the real keycast-keymgr binary for tests: a config written to a private
// temporary directory, `init` then serve, the port read from its
// "listening on" line (configs listen on port 0), stopped on destruction.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace keymgr::test {

// A private (0700) temporary directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A loopback port free right now (type SOCK_STREAM or SOCK_DGRAM): for a
// server that must come back on the same port, or a port nobody listens on.
std::uint16_t free_port(int type = 1 /* SOCK_STREAM */);

// Runs KEYCAST_KEYMGR_BIN with args; returns its exit code, stdout+stderr in
// *output. Killed (128 + SIGKILL) if it runs longer than timeout.
int run_keymgr(const std::vector<std::string>& args, std::string* output,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

class KeymgrProcess {
 public:
  // Writes config_text to dir/keymgr.toml (dir also gets state/ unless
  // state_dir is given), runs init, then serves. Fails the test (and returns
  // null) if it does not listen within a few seconds.
  static std::unique_ptr<KeymgrProcess> start(const std::filesystem::path& dir, const std::string& config_text,
                                              std::filesystem::path state_dir = {});
  ~KeymgrProcess();

  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  const std::filesystem::path& config_file() const { return config_; }
  // Sends sig and waits for the exit; returns the wait status.
  int stop(int sig);
  // What the process wrote to stderr so far.
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path config_, state_dir_, log_;
};

}  // namespace keymgr::test
