// poll(): an array of {descriptor, events wanted}, no bitmap and no limit
// at 1024, but the kernel still looks at every entry on every call.
//
// lesson: select, slide "poll, epoll, kqueue, IOCP"
//
//   lab::net::poll_set watched;
//   watched.add(listener, POLLIN);
//   for (int c : clients) watched.add(c, POLLIN);
//   watched.wait(lab::net::wait_forever);
//   for (const pollfd& entry : watched.entries())
//     if (entry.revents & (POLLIN | POLLHUP | POLLERR)) ...
#pragma once

#include <poll.h>

#include <chrono>
#include <span>
#include <vector>

#include "select_set.hpp"  // wait_forever

namespace lab::net {

class poll_set {
 public:
  // Watches `fd` for `events` (POLLIN, POLLOUT); returns its index in entries().
  std::size_t add(int fd, short events);
  // Forgets every entry (a loop may rebuild the array each turn, or keep it).
  void clear() { entries_.clear(); }

  // Calls poll() for at most `timeout` (wait_forever: no limit). Returns how
  // many entries have events; 0 on a timeout or when a signal interrupted it.
  int wait(std::chrono::milliseconds timeout);

  // The entries in the order added, each with the events found (revents).
  std::span<pollfd> entries() { return entries_; }
  std::span<const pollfd> entries() const { return entries_; }

 private:
  std::vector<pollfd> entries_;
};

}  // namespace lab::net
