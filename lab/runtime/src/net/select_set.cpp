#include "lab/net/select_set.hpp"

#include <sys/time.h>

#include <algorithm>
#include <string>

#include "lab/net/error.hpp"

namespace lab::net {

select_limit::select_limit(int fd)
    : std::out_of_range("descriptor " + std::to_string(fd) +
                        " is beyond select()'s limit: an fd_set holds descriptors 0 to " +
                        std::to_string(select_limit_fds - 1) +
                        " (FD_SETSIZE); use poll or epoll for more"),
      fd_(fd) {}

select_set::select_set() {
  FD_ZERO(&read_);
  FD_ZERO(&write_);
}

void select_set::watch_read(int fd) {
  if (fd < 0 || fd >= select_limit_fds) throw select_limit(fd);
  FD_SET(fd, &read_);
  top_ = std::max(top_, fd);
}

void select_set::watch_write(int fd) {
  if (fd < 0 || fd >= select_limit_fds) throw select_limit(fd);
  FD_SET(fd, &write_);
  top_ = std::max(top_, fd);
}

int select_set::wait(std::chrono::milliseconds timeout) {
  timeval limit{};
  timeval* limit_pointer = nullptr;
  if (timeout >= std::chrono::milliseconds::zero()) {
    limit.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    limit.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    limit_pointer = &limit;
  }
  const int ready = ::select(top_ + 1, &read_, &write_, nullptr, limit_pointer);
  if (ready >= 0) return ready;
  if (errno == EINTR) {  // the sets are undefined now: report nothing ready
    FD_ZERO(&read_);
    FD_ZERO(&write_);
    return 0;
  }
  throw_errno("select");
}

bool select_set::readable(int fd) const {
  return fd >= 0 && fd < select_limit_fds && FD_ISSET(fd, &read_);
}

bool select_set::writable(int fd) const {
  return fd >= 0 && fd < select_limit_fds && FD_ISSET(fd, &write_);
}

}  // namespace lab::net
