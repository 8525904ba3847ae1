// Runs keycast-recv (KEYCAST_RECV_BIN) for tests: stdout and stderr to files,
// waited for with a deadline, killed if it overstays.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace keycast::test {

class RecvProcess {
 public:
  RecvProcess(const std::vector<std::string>& args, const std::filesystem::path& dir);
  ~RecvProcess();

  // The exit code, or -1 when it had to be killed at the deadline.
  int wait(std::chrono::milliseconds timeout);
  // Waits until stderr contains text (or the process ended); true if it does.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);
  std::string log() const;
  bool running();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  std::filesystem::path err_;
};

}  // namespace keycast::test
