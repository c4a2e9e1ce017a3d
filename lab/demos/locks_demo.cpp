// The cost of a lock.
//
// lesson: locks
//
//   lock.counter   the cost of one increment: plain mutex, or atomic, at 1 and 2 threads.
//
// lock.deadlock has a file of its own (deadlock_demo.cpp).
#include <fmt/core.h>
#include <lab/timing.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "spin_gate.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

// Seconds for `threads` threads to do `total` increments in all.
//
// The threads start together at a spin gate, and the runs are long (tens of
// milliseconds or more): with short runs one thread often finishes before the
// other has really started, and then nothing was contended at all.
template <typename Increment>
double seconds_for(long threads, long total, Increment increment) {
  const auto start = std::chrono::steady_clock::now();
  spin_gate together(threads);
  std::vector<std::thread> workers;
  for (long t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      together.arrive_and_wait();
      for (long i = 0; i < total / threads; ++i) increment();
    });
  for (auto& worker : workers) worker.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Nanoseconds per increment, mutex and atomic: the medians of `repeats` runs
// each after a warm-up of each. The runs alternate (mutex, atomic, mutex,
// ...) so that both see the same machine: on a laptop or a VM the cost of
// sharing a cache line can drift as threads move between cores, and the
// ratio should not depend on which of the two ran during the drift.
struct increment_costs {
  double mutex_ns = 0;
  double atomic_ns = 0;
};
increment_costs time_increments(long threads, long total, int repeats) {
  std::mutex mu;
  long guarded = 0;  // guarded by mu
  std::atomic<long> counted{0};
  const auto with_mutex = [&] {
    std::scoped_lock lock(mu);
    ++guarded;
  };
  // Relaxed: only the count matters, and join() publishes it.
  const auto with_atomic = [&] { counted.fetch_add(1, std::memory_order_relaxed); };
  seconds_for(threads, total, with_mutex);  // warm-ups
  seconds_for(threads, total, with_atomic);
  std::vector<double> mutex_runs, atomic_runs;
  for (int r = 0; r < repeats; ++r) {
    mutex_runs.push_back(seconds_for(threads, total, with_mutex));
    atomic_runs.push_back(seconds_for(threads, total, with_atomic));
  }
  const double per_increment = 1e9 / static_cast<double>(total);
  return {median_of(mutex_runs) * per_increment, median_of(atomic_runs) * per_increment};
}

// "Several times cheaper": the least the mutex may cost per increment, in
// atomic increments, for the lesson's claim to show.
constexpr double mutex_over_atomic_bound = 2.0;
// "Both cost more with 2 threads than with 1": the counter's cache line moves
// between cores at each increment. The least rise, for either.
constexpr double shared_line_bound = 1.2;

int run_locked_counter(const params& p) {
  const auto thread_counts = p.numbers("threads");
  const long total = p.number("increments");
  const int repeats = static_cast<int>(p.number("repeats"));
  const load_watch watch;
  fmt::print("{} increments of one shared counter; median of {} runs each after a warm-up\n\n",
             total, repeats);
  fmt::print("{:>8} {:>16} {:>16} {:>9}\n", "threads", "mutex ns/incr", "atomic ns/incr", "ratio");
  std::vector<claim> claims;
  std::map<long, increment_costs> by_threads;
  for (long threads : thread_counts) {
    const auto costs = time_increments(threads, total, repeats);
    const auto [with_mutex, with_atomic] = costs;
    by_threads[threads] = costs;
    fmt::print("{:>8} {:>16.1f} {:>16.1f} {:>8.1f}x\n", threads, with_mutex, with_atomic,
               with_mutex / with_atomic);
    std::fflush(stdout);
    // lab bench compares the 2-thread row with its target (atomic >= 2.5x).
    if (threads == 1) report_metric("atomic_speedup_1_thread", with_mutex / with_atomic, "x");
    if (threads == 2) report_metric("atomic_speedup_2_threads", with_mutex / with_atomic, "x");
    claims.push_back(
        {.figure = fmt::format("a mutex increment against an atomic one with {} thread{}", threads,
                               threads == 1 ? "" : "s"),
         .value = with_mutex / with_atomic,
         .bound = mutex_over_atomic_bound,
         .parallel = static_cast<unsigned>(threads),
         .lesson =
             threads == 1
                 ? "A mutex costs at least two atomic operations (lock and unlock); the "
                   "atomic is one\ninstruction."
                 : "A thread that finds the mutex taken may go to sleep, and must be woken."});
  }
  const auto machine = watch.figures();
  fmt::print("\n{}", verdicts(claims, machine));
  if (by_threads.count(1) != 0 && by_threads.count(2) != 0) {
    const claim shared{
        .figure = "an atomic increment with 2 threads against 1",
        .value = by_threads[2].atomic_ns / by_threads[1].atomic_ns,
        .bound = shared_line_bound,
        .parallel = 2,
        .lesson =
            "With 2 threads both pay for moving the counter's cache line between cores; how\n"
            "much depends on the processor (two hyperthreads of one core share it cheaply)."};
    fmt::print("{}", describe(shared, judge(shared, machine), machine));
  }
  return 0;
}

// Each row runs 2 x (repeats + 1) times: 100 million contended mutex
// increments take several seconds each time.
const registration locked_counter_demo{
    {.name = "lock.counter",
     .summary = "the cost of an increment with a mutex and with an atomic",
     .params = {param::numbers("threads", {1, 2}, {1, 64}),
                param::number("increments", 10'000'000, {1'000, 100'000'000}),
                param::number("repeats", 5, {1, 20})},
     .run = run_locked_counter}};

}  // namespace
}  // namespace lab::demos
