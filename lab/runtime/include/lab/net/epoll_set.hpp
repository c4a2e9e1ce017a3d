// epoll: the interest list lives in the kernel; each wait returns only what
// became ready, so its cost follows the events, not the connections.
//
// lesson: event-loops, slide "epoll"
//
//   lab::net::epoll_set loop;
//   loop.add(listener, EPOLLIN);                       // once per descriptor
//   for (;;)
//     for (const epoll_event& ready : loop.wait(lab::net::wait_forever))
//       handle(ready.data.fd, ready.events);
//
// Level-triggered (the default): a descriptor with unread data is reported
// again on every wait, as with select and poll, which keeps handlers simple.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include <lab/unique_fd.hpp>

#include "select_set.hpp"  // wait_forever

namespace lab::net {

class epoll_set {
 public:
  // An epoll instance whose wait() reports up to `max_events` at a time.
  explicit epoll_set(int max_events = 256);

  // Registers `fd` for `events` (EPOLLIN, EPOLLOUT, ...); data.fd is `fd`.
  void add(int fd, std::uint32_t events);
  // Changes what `fd` is watched for (e.g. EPOLLOUT while a reply waits).
  void modify(int fd, std::uint32_t events);
  // Stops watching `fd` (closing it does that too, if no other copy of it is open).
  void remove(int fd);

  // Waits for at most `timeout` (wait_forever: no limit). Returns the ready
  // descriptors, valid until the next wait(); empty on a timeout or when a
  // signal interrupted it.
  std::span<const epoll_event> wait(std::chrono::milliseconds timeout);

  int fd() const { return fd_.get(); }

 private:
  unique_fd fd_;
  std::vector<epoll_event> ready_;
};

}  // namespace lab::net
