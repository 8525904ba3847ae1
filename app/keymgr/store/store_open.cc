// open_store: lock, load the KEK, open, and settle an interrupted rotation.
#include "store/store_open.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "store/private_path.h"
#include "store/schema.h"

namespace keymgr::store {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// kek_file matched: a <kek_file>.new is what a rotation left before its commit.
Result<void> remove_stale(const std::string& pending, const OpenLog& log) {
  if (!exists(pending)) return {};
  if (::unlink(pending.c_str()) != 0 && errno != ENOENT) {
    return fail(StoreError::refused, "cannot remove " + pending + " (left by an interrupted rotate-kek): " +
                                         std::strerror(errno));
  }
  log("removed " + pending + ", left by a rotate-kek interrupted before its commit; the KEK is unchanged");
  return {};
}

void say_upgrade(const KeyStore& store, const OpenLog& log) {
  if (store.opened_schema() == kSchemaVersion) return;
  log("upgraded " + store.path() + " from schema " + std::to_string(store.opened_schema()) + " to " +
      std::to_string(kSchemaVersion) + " (receivers' fetches kept as runs of key ids)");
}

}  // namespace

Result<LockedStore> open_store(const std::string& state_dir, const std::string& kek_file,
                               StateLock::Mode mode, const OpenLog& log) {
  if (auto r = check_private_dir(state_dir); !r) return r.failure();  // before the lock file is made there
  auto lock = StateLock::acquire(state_dir, mode);
  if (!lock) return lock.failure();
  auto kek = Kek::load(kek_file);
  if (!kek) return kek.failure();
  const std::string pending = pending_kek_path(kek_file);

  auto store = KeyStore::open(state_dir, *kek);
  if (store) {
    if (auto r = remove_stale(pending, log); !r) return r.failure();
    say_upgrade(*store, log);
    return LockedStore{std::move(*lock), std::move(*store)};
  }
  if (store.error() != StoreError::refused || !exists(pending)) return store.failure();

  // kek_file does not match: did a rotation commit under <kek_file>.new?
  auto next = Kek::load(pending);
  if (!next) return fail(StoreError::refused, store.message() + "; " + next.message());
  auto rotated = KeyStore::open(state_dir, *next);
  if (!rotated) return fail(StoreError::refused, store.message() + "; " + pending + " does not match it either");
  if (auto r = install_kek_file(pending, kek_file); !r) return r.failure();
  log("finished an interrupted rotate-kek: the store is under " + pending + ", now renamed to " + kek_file);
  say_upgrade(*rotated, log);
  return LockedStore{std::move(*lock), std::move(*rotated)};
}

}  // namespace keymgr::store
