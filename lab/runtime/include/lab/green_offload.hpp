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
// greenlets' thread may touch (other greenlets, green events). The worker
// hands the result (or fn's exception, rethrown here) over in a shared
// record: it stores it, lets go of fn, sets `ready` (release), and only
// then writes to the eventfd; the greenlet reads `ready` (acquire) before
// the result. The flag, not the eventfd, orders the worker's writes before
// the greenlet's reads: a system call is no ordering that the C++ memory
// model (or ThreadSanitizer) knows of. Once it has set the flag, the
// worker touches nothing the greenlet uses: it lets go of what fn captured
// before, and the greenlet takes the result and the exception out of the
// record, so that they end on its side. If the greenlet is killed
// while it waits, fn still runs to its end, and its result is dropped.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <type_traits>
#include <utility>

#include <lab/green.hpp>
#include <lab/thread_pool.hpp>
#include <lab/unique_fd.hpp>

namespace lab::green {

template <typename Fn>
auto call_in_thread(thread_pool& pool, Fn fn) -> std::invoke_result_t<Fn> {
  using result = std::invoke_result_t<Fn>;
  // Shared by the greenlet and the job: a greenlet killed during its wait
  // must not free it, nor close the eventfd, under a worker still using it.
  struct handover {
    unique_fd done{eventfd(0, EFD_CLOEXEC)};
    std::conditional_t<std::is_void_v<result>, bool, std::optional<result>> value{};
    std::exception_ptr error;
    std::atomic<bool> ready{false};
  };
  auto shared = std::make_shared<handover>();
  if (!shared->done) throw std::system_error(errno, std::generic_category(), "eventfd");
  pool.submit([work = std::optional<Fn>(std::move(fn)), shared]() mutable {
    try {
      if constexpr (std::is_void_v<result>)
        (*work)();
      else
        shared->value.emplace((*work)());
    } catch (...) {
      shared->error = std::current_exception();
    }
    work.reset();  // what fn captured goes here, before the greenlet goes on
    shared->ready.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = ::write(shared->done.get(), &one, sizeof one);
  });
  wait_readable(shared->done.get());  // a green wait: the others run meanwhile
  if (!shared->ready.load(std::memory_order_acquire))
    throw std::logic_error("call_in_thread: woken before the worker was done");
  // Taken out of the record, so that they end on this thread whoever lets
  // go of the record last (the worker may, after its write).
  if (std::exception_ptr error = std::exchange(shared->error, nullptr)) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<result>) {
    result value = std::move(*shared->value);
    shared->value.reset();
    return value;
  }
}

}  // namespace lab::green
