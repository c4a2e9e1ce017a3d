// counting.event_loop: the counting server on one thread and epoll. Each
// request takes its number in one step (read and write with nothing in
// between), then waits for its simulated work on a timer instead of
// sleeping, so that the loop serves the other clients meanwhile.
//
// lesson: event-loops, slide "Evented I/O"
//
// No lock: only one handler runs at a time, and none of them gives way
// between reading the counter and writing it back. (Put the wait between
// the two, as `await` would in asyncio, and the race comes back.)
#include <sys/timerfd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <lab/net/epoll_set.hpp>
#include <lab/net/error.hpp>
#include <lab/net/socket.hpp>

#include "counting_reply.hpp"
#include "server.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

// A request waiting for its work to be done: its client, its number, when it began.
struct pending_request {
  unique_fd client;
  unique_fd timer;
  long number = 0;
  clock_type::time_point start;
};

// A timer that becomes readable once, after `after`.
unique_fd one_shot_timer(std::chrono::milliseconds after) {
  unique_fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer) net::throw_errno("timerfd_create");
  itimerspec when{};
  const long ms = std::max<long>(after.count(), 0);
  when.it_value.tv_sec = ms / 1000;
  when.it_value.tv_nsec = (ms % 1000) * 1'000'000 + (ms == 0 ? 1 : 0);  // 0 would disarm it
  if (::timerfd_settime(timer.get(), 0, &when, nullptr) != 0) net::throw_errno("timerfd_settime");
  return timer;
}

void serve_event_loop(net::listener& listener, int stop_fd, const server_options& options) {
  net::set_nonblocking(listener.fd.get());
  net::epoll_set loop;
  loop.add(listener.fd.get(), EPOLLIN);
  loop.add(stop_fd, EPOLLIN);
  long served = 0;                          // only this thread touches it
  std::map<int, pending_request> by_timer;  // requests, by their timer's descriptor
  for (;;) {
    for (const epoll_event& ready : loop.wait(net::wait_forever)) {
      const int fd = ready.data.fd;
      if (fd == stop_fd) return;
      if (fd == listener.fd.get()) {
        unique_fd client = net::accept_client(fd, /*nonblocking=*/true);
        if (!client) continue;
        pending_request request;
        request.start = clock_type::now();
        request.number = ++served;  // read and write in one step: nothing runs in between
        request.client = std::move(client);
        request.timer = one_shot_timer(options.work);
        const int timer = request.timer.get();
        loop.add(timer, EPOLLIN);
        by_timer.emplace(timer, std::move(request));
        continue;
      }
      const auto found = by_timer.find(fd);
      if (found == by_timer.end()) continue;
      const pending_request& request = found->second;
      reply_with_number(request.client.get(), request.number, clock_type::now() - request.start);
      by_timer.erase(found);  // closes the client and the timer (which leaves the epoll set)
    }
  }
}

const server_registration event_loop_server{
    {.name = "counting.event_loop",
     .summary = "counting server on one epoll thread, its waits on timers: unique without a lock",
     .kind = server_kind::counting,
     .serve = serve_event_loop,
     .limits = R"({"open_files": 4096})"}};

}  // namespace
}  // namespace lab::demos
