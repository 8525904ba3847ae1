// Watches the KEK file while the key manager serves. The KEK is read once, at
// start, and stays in memory: a KEK file deleted or replaced later changes
// nothing for the keys served now, but the next start needs the file to hold
// that KEK. So each change is said once, at the time, not at the next start.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <string>

namespace keymgr {

class KekWatch {
 public:
  // Remembers which file `path` is now (right after the KEK was loaded).
  KekWatch(std::string path, std::function<void(const std::string&)> log);
  // Looks again (a stat); logs a line when the file went away or became
  // another file since the last look.
  void check();

 private:
  struct Seen {
    int error = 0;  // errno of stat, 0 when it exists
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    timespec mtime{};
  };
  Seen look() const;
  static bool same(const Seen& a, const Seen& b);

  std::string path_;
  std::function<void(const std::string&)> log_;
  Seen last_;
};

}  // namespace keymgr
