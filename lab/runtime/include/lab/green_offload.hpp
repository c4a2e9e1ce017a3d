// lab::green::call_in_thread: a blocking call made from a greenlet without
// freezing the others (gevent's threadpool.apply, asyncio's run_in_executor).
//
// lesson: green-threads, slide "The database driver problem"
//
//   lab::thread_pool pool(2);
//   green::spawn([&] {
//     long rows = green::call_in_thread(pool, [] { return slow_query(); });
//   });
//
// Some calls cannot be made cooperative: a database driver that blocks
// inside C code, a long computation. Called from a greenlet, they hold the
// one thread every greenlet runs on. call_in_thread runs such a call on a
// worker thread of `pool`, and the greenlet waits for it the way it waits
// for a socket: the worker writes to an eventfd when the call is done, and
// the greenlet's wait is a wait for that eventfd to be readable. Meanwhile
// the hub runs every other greenlet.
//
// Contract: fn runs on a worker thread, so it must not touch what only the
// greenlets' thread may touch (other greenlets, green events); the result
// (or fn's exception, rethrown here) is handed over through a std::future,
// which orders fn's writes before the greenlet's reads. If the greenlet is
// killed while it waits, fn still runs to its end, and its result is dropped.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <future>
#include <memory>
#include <system_error>
#include <type_traits>

#include <lab/green.hpp>
#include <lab/thread_pool.hpp>
#include <lab/unique_fd.hpp>

namespace lab::green {

template <typename Fn>
auto call_in_thread(thread_pool& pool, Fn fn) -> std::invoke_result_t<Fn> {
  // Shared with the job: a greenlet killed during its wait must not close
  // the eventfd under a worker that is about to write to it.
  auto done = std::make_shared<unique_fd>(eventfd(0, EFD_CLOEXEC));
  if (!*done) throw std::system_error(errno, std::generic_category(), "eventfd");
  auto result = pool.submit([fn = std::move(fn), done]() mutable {
    // Whatever fn does, the greenlet is told that it ended.
    struct tell_when_done {
      int fd;
      ~tell_when_done() {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto written = ::write(fd, &one, sizeof one);
      }
    } tell{done->get()};
    return fn();
  });
  wait_readable(done->get());  // a green wait: the others run meanwhile
  return result.get();         // fn's result, or its exception
}

}  // namespace lab::green
