#include "lab/net/poll_set.hpp"

#include "lab/net/error.hpp"

namespace lab::net {

std::size_t poll_set::add(int fd, short events) {
  entries_.push_back(pollfd{fd, events, 0});
  return entries_.size() - 1;
}

int poll_set::wait(std::chrono::milliseconds timeout) {
  const int limit =
      timeout < std::chrono::milliseconds::zero() ? -1 : static_cast<int>(timeout.count());
  const int ready = ::poll(entries_.data(), entries_.size(), limit);
  if (ready >= 0) return ready;
  if (errno == EINTR) {
    for (pollfd& entry : entries_) entry.revents = 0;
    return 0;
  }
  throw_errno("poll");
}

}  // namespace lab::net
