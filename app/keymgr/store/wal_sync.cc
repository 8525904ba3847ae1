// WalSync: the sync thread, its WAL file descriptor and its checkpointing
// connection.
#include "store/wal_sync.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include "store/sqlite_db.h"

namespace keymgr::store {

namespace {

// What the thread holds open: the WAL (an fsync of any descriptor of a file
// syncs the file) and a connection of its own for checkpoints. The WAL
// descriptor is never a lock holder: SQLite locks the database and -shm.
struct WalFiles {
  int fd = -1;
  std::optional<Db> checkpointer;
  WalSync::Log log;
  bool failing = false;  // the last checkpoint failed (said once)
  ~WalFiles() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::unique_ptr<WalSync>> WalSync::open(const std::string& db_path, Done done, Log log) {
  auto files = std::make_shared<WalFiles>();
  const std::string wal = db_path + "-wal";
  files->fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  if (files->fd < 0) return fail(StoreError::refused, wal + ": cannot open to sync it: " + std::strerror(errno));
  auto db = Db::open(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
  if (!db) return db.failure();
  // A read first, so that this connection has found the WAL and a checkpoint
  // has something to work on.
  if (auto r = db->query_text("SELECT count(*) FROM meta", "read meta"); !r) return r.failure();
  files->checkpointer.emplace(std::move(*db));
  files->log = std::move(log);
  auto sync = [files] { return ::fdatasync(files->fd) == 0 ? 0 : errno; };
  auto checkpoint = [files] {
    const int rc = sqlite3_wal_checkpoint_v2(files->checkpointer->handle(), "main", SQLITE_CHECKPOINT_PASSIVE,
                                             nullptr, nullptr);
    const bool failed = rc != SQLITE_OK && rc != SQLITE_BUSY;  // busy: another checkpoint runs
    if (failed && !files->failing)
      files->log("store: cannot checkpoint the WAL (it grows until it can): " +
                 files->checkpointer->failure(rc, "checkpoint").message);
    else if (!failed && files->failing)
      files->log("store: checkpointed again");
    files->failing = failed;
  };
  return std::make_unique<WalSync>(std::move(sync), std::move(checkpoint), std::move(done));
}

WalSync::WalSync(std::function<int()> sync, std::function<void()> checkpoint, Done done)
    : sync_(std::move(sync)), checkpoint_(std::move(checkpoint)), done_(std::move(done)), thread_([this] { run(); }) {}

WalSync::~WalSync() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void WalSync::request(std::uint64_t ticket, bool checkpoint) {
  {
    std::lock_guard lock(mutex_);
    if (ticket > asked_) asked_ = ticket;
    checkpoint_due_ = checkpoint_due_ || checkpoint;
  }
  wake_.notify_one();
}

void WalSync::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || asked_ > synced_; });
    const bool last = stopping_;
    const std::uint64_t ticket = asked_;
    const bool checkpoint = std::exchange(checkpoint_due_, false);
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    const int error = sync_();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (ticket > synced_ || error) done_(ticket, error, seconds);
    if (checkpoint && !error) checkpoint_();
    lock.lock();
    synced_ = ticket;
    if (last) return;
  }
}

}  // namespace keymgr::store
