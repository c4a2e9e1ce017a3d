// Demos of the GIL analogue itself.
//
// lesson: gil
//
//   gil.countdown  a CPU-bound countdown split over 1, 2, 4 threads, holding
//                  the GIL (no speedup) and releasing it (close to the cores),
//                  side by side.
//   gil.handoff    how long a thread that wants the GIL waits for it while
//                  another one computes, for several switch intervals: about
//                  one interval each time.
#include <fmt/core.h>
#include <lab/gil.hpp>
#include <lab/primes.hpp>
#include <lab/timing.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

// Counts down from n, doing a little arithmetic at each step (one step of a
// pseudo-random generator, so the compiler cannot skip or fold the loop).
// With `interpreted`, holds the GIL and passes a safepoint every few steps
// (the spacing setting, 64 by default), like bytecode in CPython's eval loop.
//
// Why arithmetic and not just a store: each step waits for the previous
// multiply, which leaves the core's other resources free. So two threads
// scale even on two hyperthreads of one physical core, as many laptops and
// VMs have; a loop of bare stores would compete for the one store unit.
void countdown(long n, bool interpreted) {
  unsigned long state = 1;
  if (!interpreted) {
    for (long i = n; i > 0; --i)
      state = state * 6364136223846793005UL + static_cast<unsigned long>(i);
  } else {
    const long spacing = safepoint_spacing();
    gil_hold hold;
    for (long i = n; i > 0; --i) {
      state = state * 6364136223846793005UL + static_cast<unsigned long>(i);
      if (i % spacing == 0) gil::safepoint();
    }
  }
  [[maybe_unused]] volatile unsigned long sink = state;  // the result is used: the loop stays
}

// Seconds to count down from `total` split over `threads` threads: the
// median of 3 runs after a warm-up.
double countdown_seconds(long threads, long total, bool interpreted) {
  return median_of(time_repeats(3, [&] {
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t)
      workers.emplace_back([&] { countdown(total / threads, interpreted); });
    for (auto& worker : workers) worker.join();
  }));
}

// The lesson's two claims for `threads` against the first row: no speedup
// holding the GIL, a speedup up to the cores releasing it.
// `gil_one` and `native_one` are the first row's times.
std::vector<claim> countdown_claims(long threads, double gil_speedup, double native_speedup,
                                    double gil_one, double native_one,
                                    const load_figures& machine) {
  return {
      {.figure = fmt::format("{} threads holding the GIL against 1", threads),
       .value = gil_speedup,
       .direction = expect::at_most,
       .bound = no_speedup_bound,
       .lesson = "Under the GIL only one thread counts at a time, whatever the number of\n"
                 "threads: no speedup, and the handoffs between them can make it slower.",
       .known_cause = too_short_cause(gil_one, "a larger n")},
      {.figure = fmt::format("{} threads releasing the GIL against 1", threads),
       .value = native_speedup,
       .bound = speedup_bound(threads, machine),
       .parallel = static_cast<unsigned>(threads),
       .lesson = fmt::format("Without it the threads count at once, up to the {} cores this "
                             "process may use.",
                             machine.usable_cores),
       .known_cause = too_short_cause(native_one, "a larger n")},
  };
}

int run_countdown(const params& p) {
  const auto thread_counts = p.numbers("threads");
  const long total = p.number("n");
  const load_watch watch;
  fmt::print("counting down from {} split over N threads; median of 3 runs after a warm-up\n\n",
             total);
  fmt::print("{:>8}   {:^22}   {:^22}\n", "", "holding the GIL", "releasing the GIL");
  fmt::print("{:>8}   {:^22}   {:^22}\n", "", "(interpreted)", "(native code)");
  fmt::print("{:>8}   {:>10} {:>11}   {:>10} {:>11}\n", "threads", "time", "speedup", "time",
             "speedup");
  double gil_one = 0, native_one = 0;
  struct row {
    long threads;
    double gil_speedup, native_speedup;
  };
  std::vector<row> rows;
  for (long threads : thread_counts) {
    const double gil_seconds = countdown_seconds(threads, total, true);
    const double native_seconds = countdown_seconds(threads, total, false);
    if (gil_one == 0) {  // the first row is the baseline of both columns
      gil_one = gil_seconds;
      native_one = native_seconds;
    }
    const double gil_speedup = gil_one / gil_seconds;
    const double native_speedup = native_one / native_seconds;
    fmt::print("{:>8}   {:>8.3f} s {:>10.2f}x   {:>8.3f} s {:>10.2f}x\n", threads, gil_seconds,
               gil_speedup, native_seconds, native_speedup);
    std::fflush(stdout);
    if (threads > 1) {  // speedups over the first row, for lab bench
      report_metric(fmt::format("gil_speedup_{}_threads", threads), gil_speedup, "x");
      report_metric(fmt::format("native_speedup_{}_threads", threads), native_speedup, "x");
    }
    if (threads > thread_counts.front()) rows.push_back({threads, gil_speedup, native_speedup});
  }
  if (rows.empty()) return 0;
  if (thread_counts.front() != 1) {
    fmt::print(
        "\n(No verdict: the speedups are against the first row, and the lesson's claim is about "
        "N threads against 1. List 1 first: threads=1,2,4.)\n");
    return 0;
  }
  const auto machine = watch.figures();
  std::vector<claim> claims;
  for (const auto& r : rows)
    for (auto& c :
         countdown_claims(r.threads, r.gil_speedup, r.native_speedup, gil_one, native_one, machine))
      claims.push_back(std::move(c));
  fmt::print("\n{}", verdicts(claims, machine));
  return 0;
}

// The waits, in milliseconds, of `rounds` tries to take the GIL while another
// thread computes holding it, at switch interval `interval_ms`.
std::vector<double> handoff_waits(double interval_ms, long rounds) {
  gil::set_switch_interval(std::chrono::microseconds(std::lround(interval_ms * 1000)));
  std::atomic<bool> stop{false};  // relaxed: it only ends the loop; join() orders the rest
  std::thread cpu_bound([&] {
    gil_hold hold;
    while (!stop.load(std::memory_order_relaxed)) gil::safepoint();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let it take the GIL
  std::vector<double> waits;
  for (long r = 0; r < rounds; ++r) {
    const auto start = clock_type::now();
    gil::acquire();
    waits.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - start).count());
    gil::release();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // an "I/O wait" without the GIL
  }
  stop.store(true, std::memory_order_relaxed);
  cpu_bound.join();
  return waits;
}

// "About one interval": a wait under half an interval means nobody held the
// GIL when the waiter asked (the computing thread was not running), and one
// of more than one and a half that the holder was late to let go.
constexpr double wait_bound = 1.5;
// Linux wakes a thread from a timed wait up to about 0.05 ms late (its timer
// slack): a large part of an interval under half a millisecond.
constexpr const char* short_interval_cause =
    "a thread wakes from a timed wait up to about 0.05 ms late (Linux's timer slack), which "
    "is a large part of an interval this short";

int run_handoff(const params& p) {
  // Unless interval_ms= is given, the student's setting (lab settings
  // interval_ms=...) is one of the rows.
  const double current_ms = static_cast<double>(gil::switch_interval().count()) / 1000.0;
  auto intervals_ms = p.reals("interval_ms");
  if (!p.given("interval_ms")) {
    if (std::find(intervals_ms.begin(), intervals_ms.end(), current_ms) == intervals_ms.end())
      intervals_ms.push_back(current_ms);
    std::sort(intervals_ms.begin(), intervals_ms.end());
  }
  const long rounds = p.number("rounds");
  fmt::print(
      "A thread computes, holding the GIL analogue. Another asks for the GIL, {} times at\n"
      "each switch interval, and times how long it waits; median of the tries.\n\n",
      rounds);
  fmt::print("{:>16} {:>14} {:>17}\n", "switch interval", "median wait", "wait / interval");
  const load_watch watch;
  bool first = true;
  std::vector<claim> claims;
  for (double interval_ms : intervals_ms) {
    const double median = median_of(handoff_waits(interval_ms, rounds));
    fmt::print("{:>13g} ms {:>11.3f} ms {:>16.2f}x{}\n", interval_ms, median, median / interval_ms,
               interval_ms == current_ms ? "   (the current setting)" : "");
    std::fflush(stdout);
    if (first) {  // lab bench compares the first row (5 ms in its entry) with its target
      report_metric("median_wait_ms", median, "ms");
      report_metric("wait_per_interval", median / interval_ms, "x");
      first = false;
    }
    // The holder must be on a CPU to reach its safepoint, and the waiter to
    // wake after its interval: two threads at once, or the wait grows.
    claims.push_back({.figure = fmt::format("median wait at {:g} ms in intervals", interval_ms),
                      .value = median / interval_ms,
                      .direction = expect::between,
                      .bound = wait_bound,
                      .low = 0.5,
                      .parallel = 2,
                      .known_cause = interval_ms < 0.5 ? short_interval_cause : ""});
  }
  gil::set_switch_interval(std::chrono::microseconds(std::lround(current_ms * 1000)));
  const auto machine = watch.figures();
  fmt::print("\n{}", verdicts(claims, machine));
  if (std::all_of(claims.begin(), claims.end(),
                  [&](const claim& c) { return judge(c, machine).shown; }))
    fmt::print(
        "\nThe waiter waits one interval, then sets a drop request; the holder lets go at its "
        "next\n"
        "safepoint. So the wait is about one interval, whatever the interval: a shorter one gives\n"
        "waiters their turn sooner, at the cost of more handoffs.\n");
  return 0;
}

// Each thread count is timed 4 times each way: at n=1,000,000,000 a row takes
// about 20 s, and the default three rows a minute.
const registration countdown_demo{
    {.name = "gil.countdown",
     .summary = "a CPU-bound countdown on threads, with and without the GIL",
     .params = {param::numbers("threads", {1, 2, 4}, {1, 64}),
                param::number("n", 200'000'000, {1'000, 1'000'000'000})},
     .run = run_countdown}};
// The intervals as lab settings takes them, up to 100 ms: each round waits
// about one interval, and 200 rounds of 100 ms are 20 s per row.
const registration handoff_demo{
    {.name = "gil.handoff",
     .summary = "how long a thread waits for the GIL: about one switch interval",
     .params = {param::reals("interval_ms", {1, 5, 10}, {protocol::settings::interval_ms_min, 100},
                             "and your setting"),
                param::number("rounds", 20, {1, 200})},
     .run = run_handoff}};

}  // namespace
}  // namespace lab::demos
