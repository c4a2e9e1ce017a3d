// select(): the descriptors one call watches, and which of them were ready.
//
// lesson: select, slides "The loop in C++" and "How far select scales"
//
//   lab::net::select_set sets;                 // rebuilt on every turn of the loop
//   sets.watch_read(listener);
//   for (int c : clients) sets.watch_read(c);
//   sets.wait(lab::net::wait_forever);
//   if (sets.readable(listener)) ...
//
// An fd_set is a bitmap of FD_SETSIZE bits (1024 on Linux). Setting the bit
// of a descriptor numbered FD_SETSIZE or more writes outside it: undefined
// behaviour, in practice another variable overwritten. watch_read and
// watch_write refuse such a descriptor with select_limit instead, saying so,
// so that a server can turn that client away and go on (poll and epoll have
// no such limit).
#pragma once

#include <sys/select.h>

#include <chrono>
#include <stdexcept>

namespace lab::net {

// Waits as long as it takes (no timeout).
inline constexpr std::chrono::milliseconds wait_forever{-1};

// The descriptor numbers select() can watch: 0 to select_limit_fds - 1.
inline constexpr int select_limit_fds = FD_SETSIZE;

// A descriptor select() cannot watch. what(): "descriptor 1024 is beyond
// select()'s limit: an fd_set holds descriptors 0 to 1023 (FD_SETSIZE); use
// poll or epoll for more".
class select_limit : public std::out_of_range {
 public:
  explicit select_limit(int fd);
  int fd() const { return fd_; }

 private:
  int fd_;
};

class select_set {
 public:
  select_set();

  // Watch `fd` for reading (data, a new client, the end of the stream) or
  // for writing (room in its send buffer). Throw select_limit for fd >= FD_SETSIZE.
  void watch_read(int fd);
  void watch_write(int fd);

  // Calls select() on what is watched, for at most `timeout` (wait_forever:
  // no limit; zero: just look). Returns how many descriptors are ready; 0 on
  // a timeout, or when a signal interrupted the wait (look again).
  // Afterwards only the ready descriptors are still marked: the kernel
  // overwrites the sets, which is why a loop builds a new select_set each turn.
  int wait(std::chrono::milliseconds timeout);

  bool readable(int fd) const;
  bool writable(int fd) const;

 private:
  fd_set read_;
  fd_set write_;
  int top_ = -1;  // the highest descriptor watched
};

}  // namespace lab::net
