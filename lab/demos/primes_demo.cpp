// Demos of the primes exercise's reference solution.
//
// lesson: gil
//
//   primes        one stage, 1 worker against N: no speedup for threads under
//                 the GIL analogue, a speedup for processes.
//   gil.contrast  stage 1 under the GIL and with the GIL released, side by side.
#include <fmt/core.h>
#include <lab/primes.hpp>
#include <lab/timing.hpp>

#include <cctype>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

// The reference solution (solutions/primes.cpp), linked into lab-demos.
std::vector<long> calc_primes_threads(long end, int workers);
std::vector<long> calc_primes_pool(long end, int workers);
std::vector<long> calc_primes_processes(long end, int workers);

namespace lab::demos {
namespace {

using calc_fn = std::vector<long> (*)(long, int);

struct stage_entry {
  calc_fn fn;
  const char* title;
};

const stage_entry stages[] = {
    {calc_primes_threads, "std::thread workers"},
    {calc_primes_pool, "a thread pool"},
    {calc_primes_processes, "fork()ed processes"},
};

// The median seconds of calc(end, workers), with is_prime in `mode`.
double median_seconds(calc_fn calc, long end, long workers, code_mode mode, int repeats) {
  set_is_prime_mode(mode);
  return median_of(time_repeats(repeats, [&] { calc(end, static_cast<int>(workers)); }));
}

// What the lesson says of `workers` against one: threads holding the GIL
// take turns (no speedup); processes, or threads that release it, run side
// by side, up to the cores there are.
// `one_seconds` is the 1-worker run's time: too short, and the claim's
// figure says more about starting workers than about running them.
claim speedup_claim(const std::string& way, bool parallel, long workers, double speedup,
                    double one_seconds, const load_figures& machine) {
  claim c{.figure = fmt::format("{} {} against 1", workers, way),
          .value = speedup,
          .known_cause = too_short_cause(one_seconds, "a larger end")};
  std::string lesson = way;
  lesson[0] = static_cast<char>(std::toupper(lesson[0]));
  if (parallel) {
    c.bound = speedup_bound(workers, machine);
    c.parallel = static_cast<unsigned>(workers);
    c.lesson = fmt::format("{} run side by side, up to the {} cores this process may use.", lesson,
                           machine.usable_cores);
  } else {
    c.direction = expect::at_most;
    c.bound = no_speedup_bound;
    c.lesson = fmt::format(
        "{} take turns: only the one holding the GIL computes, so they are no faster than one.",
        lesson);
  }
  return c;
}

// The first row is the baseline of the speedups; the claims need it to be 1 worker.
constexpr const char* needs_one_worker =
    "(No verdict: the speedups are against the first row, and the lesson's claim is about N "
    "workers against 1. List 1 first: workers=1,5.)\n";

// The ranges both demos accept. Trial division grows with end squared: at
// end=300,000 one run takes about 5 s of CPU, and every worker count runs it
// repeats + 1 times (40 s at the defaults). 64 workers are 64 processes in stage 3.
constexpr bounds worker_counts{1, 64};
constexpr bounds end_bounds{1, 300'000};
constexpr bounds repeat_counts{1, 20};

int run_primes(const params& p) {
  const long stage = p.number("stage");
  const auto workers = p.numbers("workers");
  const bool native = p.flag("native");
  const long end = p.number("end");
  const int repeats = static_cast<int>(p.number("repeats"));
  const stage_entry& entry = stages[stage - 1];
  const load_watch watch;
  fmt::print("primes below {}, stage {} ({}), is_prime {}\n", end, stage, entry.title,
             native ? "native (releases the GIL)" : "interpreted (holds the GIL)");
  fmt::print("median of {} runs after a warm-up; this process may use {} cores\n\n", repeats,
             watch.figures().usable_cores);
  fmt::print("{:>8} {:>10} {:>9}\n", "workers", "median", "speedup");
  double one = 0;
  std::vector<std::pair<long, double>> speedups;
  for (long w : workers) {
    const double seconds = median_seconds(
        entry.fn, end, w, native ? code_mode::native : code_mode::interpreted, repeats);
    if (w == workers.front()) one = seconds;
    fmt::print("{:>8} {:>8.3f} s {:>8.2f}x\n", w, seconds, one / seconds);
    std::fflush(stdout);
    if (w > workers.front()) speedups.emplace_back(w, one / seconds);
  }
  if (speedups.empty()) return 0;
  if (workers.front() != 1) {
    fmt::print("\n{}", needs_one_worker);
    return 0;
  }
  // Processes each have their own GIL (stage 3); native code releases it.
  const bool parallel = stage == 3 || native;
  const char* way = stage == 3 ? "processes" : "threads";
  const auto machine = watch.figures();
  std::vector<claim> claims;
  for (const auto& [w, speedup] : speedups)
    claims.push_back(speedup_claim(way, parallel, w, speedup, one, machine));
  fmt::print("\n{}", verdicts(claims, machine));
  return 0;
}

int run_contrast(const params& p) {
  const auto workers = p.numbers("workers");
  const long end = p.number("end");
  const int repeats = static_cast<int>(p.number("repeats"));
  const load_watch watch;
  fmt::print("primes below {} on std::threads: is_prime holding the GIL, then releasing it\n", end);
  fmt::print("median of {} runs after a warm-up; this process may use {} cores\n\n", repeats,
             watch.figures().usable_cores);
  fmt::print("{:>8} {:>14} {:>9} {:>14} {:>9}\n", "workers", "under the GIL", "speedup",
             "GIL released", "speedup");
  double gil_one = 0, native_one = 0;
  struct row {
    long workers;
    double gil_speedup, native_speedup;
  };
  std::vector<row> rows;
  for (long w : workers) {
    const double gil = median_seconds(calc_primes_threads, end, w, code_mode::interpreted, repeats);
    const double native = median_seconds(calc_primes_threads, end, w, code_mode::native, repeats);
    if (w == workers.front()) {
      gil_one = gil;
      native_one = native;
    }
    fmt::print("{:>8} {:>12.3f} s {:>8.2f}x {:>12.3f} s {:>8.2f}x\n", w, gil, gil_one / gil, native,
               native_one / native);
    std::fflush(stdout);
    if (w > workers.front()) rows.push_back({w, gil_one / gil, native_one / native});
  }
  if (rows.empty()) return 0;
  if (workers.front() != 1) {
    fmt::print("\n{}", needs_one_worker);
    return 0;
  }
  const auto machine = watch.figures();
  std::vector<claim> claims;
  for (const auto& r : rows) {
    claims.push_back(
        speedup_claim("threads under the GIL", false, r.workers, r.gil_speedup, gil_one, machine));
    claims.push_back(speedup_claim("threads without the GIL", true, r.workers, r.native_speedup,
                                   native_one, machine));
  }
  fmt::print("\n{}", verdicts(claims, machine));
  return 0;
}

const registration primes_demo{
    {.name = "primes",
     .summary = "time one stage of the primes solution, 1 worker against N",
     .params = {param::number("stage", 1, {1, 3}), param::numbers("workers", {1, 5}, worker_counts),
                param::flag("native", false), param::number("end", 40'000, end_bounds),
                param::number("repeats", 3, repeat_counts)},
     .run = run_primes}};
const registration contrast_demo{
    {.name = "gil.contrast",
     .summary = "threads under the GIL against threads without it",
     .params = {param::numbers("workers", {1, 2, 4}, worker_counts),
                param::number("end", 40'000, end_bounds), param::number("repeats", 3, repeat_counts)},
     .run = run_contrast}};

}  // namespace
}  // namespace lab::demos
