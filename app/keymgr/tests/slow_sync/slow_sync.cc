// Test shim, preloaded into keycast-keymgr (LD_PRELOAD): while the file named
// by KEYCAST_SLOW_SYNC_FILE exists, every fsync and fdatasync takes half a
// second longer, as on a disk busy with other work.
#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

namespace {

void wait_if_slow() {
  const char* trigger = std::getenv("KEYCAST_SLOW_SYNC_FILE");
  if (trigger && ::access(trigger, F_OK) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(500));
}

using SyncFn = int (*)(int);

SyncFn next(const char* name) { return reinterpret_cast<SyncFn>(::dlsym(RTLD_NEXT, name)); }

}  // namespace

extern "C" int fsync(int fd) {
  static const SyncFn real = next("fsync");
  wait_if_slow();
  return real(fd);
}

extern "C" int fdatasync(int fd) {
  static const SyncFn real = next("fdatasync");
  wait_if_slow();
  return real(fd);
}
