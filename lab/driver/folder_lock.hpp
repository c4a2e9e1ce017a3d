// A folder's lock: an exclusive flock() on the ".lock" file inside it, held
// for as long as the folder_lock lives. Two labs (two terminals, or tests run
// in parallel) that build into the same folder take turns instead of deleting
// each other's files. flock() locks belong to an open file, so two
// folder_locks on one folder exclude each other even within one process.
#pragma once

#include <filesystem>
#include <functional>

#include "lab/unique_fd.hpp"

namespace lab {

class folder_lock {
 public:
  // Takes the lock on `dir` (which must exist), waiting as long as another
  // holds it. If it must wait, `on_wait` is called once first (from the
  // calling thread), so that a command can say why nothing happens.
  explicit folder_lock(const std::filesystem::path& dir, const std::function<void()>& on_wait = {});

  folder_lock(const folder_lock&) = delete;
  folder_lock& operator=(const folder_lock&) = delete;
  folder_lock(folder_lock&&) = default;
  folder_lock& operator=(folder_lock&&) = default;

  // False if the lock file could not be opened: the build goes on unlocked,
  // as it would on a file system without locks.
  bool held() const { return static_cast<bool>(fd_); }

 private:
  unique_fd fd_;  // closing it releases the lock
};

}  // namespace lab
