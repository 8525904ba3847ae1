// rotate_kek: the steps of a KEK rotation (see kek_rotation.h).
#include "store/kek_rotation.h"

#include <sys/stat.h>

#include <optional>
#include <utility>

namespace keymgr::store {

Result<std::size_t> rotate_kek(const std::string& state_dir, const std::string& kek_file, const OpenLog& log,
                               const std::function<void(RotateStage)>& test_hook) {
  auto hook = [&](RotateStage s) {
    if (test_hook) test_hook(s);
  };
  struct stat st {};
  if (::lstat(kek_file.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    return fail(StoreError::refused, "KEK file " + kek_file +
                                         " is a symbolic link: point kek_file at the file itself to rotate it");
  }
  std::optional<LockedStore> opened;
  {
    auto o = open_store(state_dir, kek_file, StateLock::Mode::exclusive, log);
    if (!o) return o.failure();
    opened.emplace(std::move(*o));
  }
  const std::string pending = pending_kek_path(kek_file);
  if (auto r = create_kek_file(pending); !r) return r.failure();
  auto rewrapped = [&]() -> Result<std::size_t> {
    auto next = Kek::load(pending);
    if (!next) return next.failure();
    hook(RotateStage::new_kek_written);
    return opened->store.rewrap(*next);
  }();
  if (!rewrapped) {
    // Whether the commit happened is for open_store to tell (a failed COMMIT
    // may still be in the WAL): it keeps the KEK the store is under.
    opened.reset();
    (void)open_store(state_dir, kek_file, StateLock::Mode::exclusive, log);
    return rewrapped.failure();
  }
  hook(RotateStage::committed);
  if (auto r = install_kek_file(pending, kek_file); !r) {  // still under the lock
    return fail(r.error(), r.message() + "; the store is re-wrapped under " + pending +
                               ": the next start of keycast-keymgr finishes the rename");
  }
  return *rewrapped;
}

}  // namespace keymgr::store
