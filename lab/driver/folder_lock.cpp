#include "folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

namespace lab {

folder_lock::folder_lock(const std::filesystem::path& dir, const std::function<void()>& on_wait)
    : fd_(open((dir / ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)) {
  if (!fd_) return;
  // First without waiting: only a lock that is really taken is worth a word.
  if (flock(fd_.get(), LOCK_EX | LOCK_NB) == 0) return;
  if (errno == EWOULDBLOCK && on_wait) on_wait();
  while (flock(fd_.get(), LOCK_EX) != 0 && errno == EINTR) {
  }
}

}  // namespace lab
