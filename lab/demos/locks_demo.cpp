// Demos of locks.
//
// lesson: locks
//
//   lock.counter   the cost of one increment: plain mutex, or atomic, at 1 and 2 threads.
//   lock.deadlock  two threads take two locks in opposite orders and wait for
//                  each other; the demo sees it, says who waits for what, and
//                  shows the fix (std::scoped_lock takes both without deadlock).
#include <fmt/core.h>
#include <lab/timing.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "demo.hpp"

namespace lab::demos {
namespace {

using namespace std::chrono_literals;

// Nanoseconds per increment with `threads` threads doing `total` increments in all.
template <typename Increment>
double nanoseconds_per_increment(long threads, long total, Increment increment) {
  const auto samples = time_repeats(3, [&] {
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t)
      workers.emplace_back([&] {
        for (long i = 0; i < total / threads; ++i) increment();
      });
    for (auto& worker : workers) worker.join();
  });
  return median_of(samples) * 1e9 / static_cast<double>(total);
}

int run_counter(const params& p) {
  const auto thread_counts = p.numbers("threads", {1, 2});
  const long total = p.number("increments", 2'000'000);
  fmt::print("{} increments of one shared counter; median of 3 runs after a warm-up\n\n", total);
  fmt::print("{:>8} {:>16} {:>16} {:>9}\n", "threads", "mutex ns/incr", "atomic ns/incr", "ratio");
  for (long threads : thread_counts) {
    std::mutex mu;
    long guarded = 0;  // guarded by mu
    std::atomic<long> atomic_count{0};
    const double with_mutex = nanoseconds_per_increment(threads, total, [&] {
      std::scoped_lock lock(mu);
      ++guarded;
    });
    // Relaxed: only the count matters, and join() publishes it.
    const double with_atomic = nanoseconds_per_increment(
        threads, total, [&] { atomic_count.fetch_add(1, std::memory_order_relaxed); });
    fmt::print("{:>8} {:>16.1f} {:>16.1f} {:>8.1f}x\n", threads, with_mutex, with_atomic,
               with_mutex / with_atomic);
    // lab bench compares the 2-thread row with its target (atomic >= 2.5x).
    if (threads == 1) report_metric("atomic_speedup_1_thread", with_mutex / with_atomic, "x");
    if (threads == 2) report_metric("atomic_speedup_2_threads", with_mutex / with_atomic, "x");
  }
  return 0;
}

// Takes `first` then `second`, pausing in between so that the other thread
// gets its first lock too. Reports what it is doing in `state`.
//
// It waits for `second` with try_lock in a loop rather than lock(): a thread
// blocked in lock() could never be told to stop, and the demo must end.
// (Not std::timed_mutex::try_lock_for: g++ 12's ThreadSanitizer does not see
// the lock it takes, and would report the later unlock as a bug.)
void take_two(std::mutex& first, std::mutex& second, std::atomic<int>& state) {
  std::scoped_lock hold_first(first);
  state.store(1);  // holding the first lock
  std::this_thread::sleep_for(50ms);
  state.store(2);  // waiting for the second lock
  while (!second.try_lock()) {
    if (state.load() == 3) return;  // told to give up: the demo saw the deadlock
    std::this_thread::sleep_for(10ms);
  }
  std::scoped_lock hold_second(std::adopt_lock, second);
  state.store(4);  // got both
}

int run_deadlock(const params&) {
  std::mutex a, b;
  std::atomic<int> state1{0}, state2{0};
  std::thread one(take_two, std::ref(a), std::ref(b), std::ref(state1));
  std::thread two(take_two, std::ref(b), std::ref(a), std::ref(state2));
  std::this_thread::sleep_for(1s);
  if (state1.load() == 2 && state2.load() == 2) {
    fmt::print("Deadlock: thread 1 holds lock A and waits for lock B;\n");
    fmt::print("          thread 2 holds lock B and waits for lock A. Neither can ever go on.\n");
    state1.store(3);
    state2.store(3);  // let them give up, so the demo can end
  } else {
    fmt::print("No deadlock this time (the threads did not interleave).\n");
  }
  one.join();
  two.join();

  std::mutex c, d;
  std::thread three([&] {
    std::scoped_lock both(c, d);  // takes both, in a way that cannot deadlock
    std::this_thread::sleep_for(50ms);
  });
  std::thread four([&] {
    std::scoped_lock both(d, c);  // the opposite order is fine with scoped_lock
    std::this_thread::sleep_for(50ms);
  });
  three.join();
  four.join();
  fmt::print(
      "\nThe fix: std::scoped_lock(c, d) in one thread and (d, c) in the other both finished.\n");
  return 0;
}

const registration counter_demo{{"lock.counter",
                                 "the cost of an increment with a mutex and with an atomic",
                                 "threads=1,2 increments=N", run_counter}};
const registration deadlock_demo{
    {"lock.deadlock", "two locks taken in opposite orders, and the fix", "", run_deadlock}};

}  // namespace
}  // namespace lab::demos
