// False sharing: threads that share no data can still slow each other down.
//
// lesson: locks, slide "False sharing"
//
//   lock.false_sharing  each thread increments only its own counter. Packed
//                       side by side, the counters share one cache line, and
//                       every increment makes the cores pass that line back
//                       and forth. Padded onto lines of their own, they do not.
#include <fmt/core.h>
#include <lab/timing.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

// The size of a cache line on the machines students use (x86-64 and most
// ARM cores). Not std::hardware_destructive_interference_size: g++ warns that
// its value may differ between compiler versions (-Winterference-size), and
// the demo wants one fixed, explainable number.
constexpr std::size_t cache_line = 64;

// Counters next to each other: 8 of them fit in one cache line.
struct packed_counter {
  std::atomic<long> value{0};
};

// One counter per cache line: alignas pads each to a line of its own.
struct alignas(cache_line) padded_counter {
  std::atomic<long> value{0};
};

// Nanoseconds per increment when `threads` threads each add `increments` to
// their own counter in `counters`. Relaxed atomics: each counter has one
// writer, so no ordering is needed, but every increment is a real write to
// memory that the compiler cannot fold into one big addition (as it could a
// plain long), which is what makes the cache line travel.
template <typename Counter>
double nanoseconds_per_increment(long threads, long increments, std::vector<Counter>& counters) {
  const double seconds = median_of(time_repeats(3, [&] {
    std::vector<std::thread> workers;
    for (long t = 0; t < threads; ++t)
      workers.emplace_back([&counters, t, increments] {
        auto& mine = counters[static_cast<std::size_t>(t)].value;
        for (long i = 0; i < increments; ++i) mine.fetch_add(1, std::memory_order_relaxed);
      });
    for (auto& worker : workers) worker.join();
  }));
  return seconds * 1e9 / static_cast<double>(increments);
}

// True if every counter holds exactly `runs` x `increments` (the warm-up and
// the timed runs all added to it).
template <typename Counter>
bool totals_exact(const std::vector<Counter>& counters, long runs, long increments) {
  for (const auto& c : counters)
    if (c.value.load() != runs * increments) return false;
  return true;
}

// The least speedup of the padded counters for the lesson's claim to show.
// How much more depends on the processor: several times on many laptops.
constexpr double padded_bound = 1.5;

int run_false_sharing(const params& p) {
  const long threads = p.number("threads");
  const long increments = p.number("increments");
  std::vector<packed_counter> packed(static_cast<std::size_t>(threads));
  std::vector<padded_counter> padded(static_cast<std::size_t>(threads));
  const load_watch watch;
  fmt::print(
      "{} threads, each adding 1 to its own counter {} times; median of 3 runs after a warm-up\n"
      "packed: {} bytes apart (neighbours share a cache line); padded: {} bytes apart\n\n",
      threads, increments, sizeof(packed_counter), sizeof(padded_counter));
  const double packed_ns = nanoseconds_per_increment(threads, increments, packed);
  const double padded_ns = nanoseconds_per_increment(threads, increments, padded);
  const long runs = 4;  // the warm-up and 3 timed runs
  fmt::print("{:>8} {:>14}\n", "counters", "ns/increment");
  fmt::print("{:>8} {:>14.2f}\n", "packed", packed_ns);
  fmt::print("{:>8} {:>14.2f}\n", "padded", padded_ns);
  fmt::print("totals exact: packed {}, padded {}\n",
             totals_exact(packed, runs, increments) ? "yes" : "no",
             totals_exact(padded, runs, increments) ? "yes" : "no");
  report_metric("padded_speedup", packed_ns / padded_ns, "x");
  const claim padding_pays{
      .figure = "padded counters against packed ones",
      .value = packed_ns / padded_ns,
      .bound = padded_bound,
      // Two cores must write the one line at the same time for it to travel.
      .parallel = static_cast<unsigned>(threads),
      .lesson =
          "No data is shared, yet the packed counters are slower: a core can write a line\n"
          "only while it owns it, so the cores take turns owning the one line all the\n"
          "counters are in. Padding gives each its own line. Per-thread data that is\n"
          "written often wants that.",
      .known_cause = threads == 1 ? "one thread has no neighbour on its cache line" : ""};
  const auto machine = watch.figures();
  fmt::print("\n{}", describe(padding_pays, judge(padding_pays, machine), machine));
  return 0;
}

// Every thread does all the increments, 8 runs of them: 16 threads of 200
// million contended ones take minutes on 2 cores.
const registration false_sharing_demo{
    {.name = "lock.false_sharing",
     .summary = "per-thread counters in one cache line, then padded apart",
     .params = {param::number("threads", 2, {1, 16}),
                param::number("increments", 20'000'000, {1'000, 200'000'000})},
     .run = run_false_sharing}};

}  // namespace
}  // namespace lab::demos
