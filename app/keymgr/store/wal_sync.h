// WalSync: puts the store's commits on the disk away from the thread that
// makes them. After KeyStore::defer_sync() a commit returns once it is in the
// operating system (synchronous=NORMAL: the WAL written, not fsynced). The
// committing thread then asks for a sync with a ticket; this thread
// fdatasyncs the WAL file (one call for every ticket asked since the last) and
// reports the highest ticket it covered. So the thread that answers requests
// does not wait for the disk (but for the WAL header SQLite syncs when the WAL
// starts over after a checkpoint): only what depends on a write (its answer,
// its replication) waits for its ticket.
//
// Checkpoints move here too: when asked, after a sync, the WAL is copied into
// the database by a connection of this thread's own (PASSIVE: never waits for
// or blocks the writer), which syncs the database file.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/result.h"

namespace keymgr::store {

class WalSync {
 public:
  // Called on the sync thread: every commit made before ticket was asked for
  // is on the disk (error 0), or the sync failed with errno error (then what
  // was committed since the last good sync may not be); and how long it took.
  using Done = std::function<void(std::uint64_t ticket, int error, double seconds)>;
  using Log = std::function<void(const std::string&)>;

  // For the database at db_path (its "-wal" must exist: the store is open).
  static Result<std::unique_ptr<WalSync>> open(const std::string& db_path, Done done, Log log);
  // With the sync (0 or errno) and the checkpoint given: for tests.
  WalSync(std::function<int()> sync, std::function<void()> checkpoint, Done done);
  // Syncs once more (whatever was committed before), then stops the thread.
  ~WalSync();
  WalSync(const WalSync&) = delete;
  WalSync& operator=(const WalSync&) = delete;

  // Asks for everything committed so far to reach the disk; done(>= ticket)
  // follows. checkpoint: the WAL is long enough to be copied back after it.
  void request(std::uint64_t ticket, bool checkpoint);

 private:
  void run();

  std::function<int()> sync_;
  std::function<void()> checkpoint_;
  Done done_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::uint64_t asked_ = 0;   // highest ticket asked for
  std::uint64_t synced_ = 0;  // highest ticket reported
  bool checkpoint_due_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is set
};

}  // namespace keymgr::store
