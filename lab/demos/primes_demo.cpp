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

#include <thread>
#include <vector>

#include "demo.hpp"

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

unsigned cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

// The ranges both demos accept. Trial division grows with end squared: at
// end=300,000 one run takes about 5 s of CPU, and every worker count runs it
// repeats + 1 times (40 s at the defaults). 64 workers are 64 processes in stage 3.
constexpr bounds worker_counts{1, 64};
constexpr bounds ends{1, 300'000};
constexpr bounds repeat_counts{1, 20};

int run_primes(const params& p) {
  const long stage = p.number("stage");
  const auto workers = p.numbers("workers");
  const bool native = p.flag("native");
  const long end = p.number("end");
  const int repeats = static_cast<int>(p.number("repeats"));
  const stage_entry& entry = stages[stage - 1];
  fmt::print("primes below {}, stage {} ({}), is_prime {}\n", end, stage, entry.title,
             native ? "native (releases the GIL)" : "interpreted (holds the GIL)");
  fmt::print("median of {} runs after a warm-up; this machine has {} cores\n\n", repeats, cores());
  fmt::print("{:>8} {:>10} {:>9}\n", "workers", "median", "speedup");
  double one = 0;
  for (long w : workers) {
    const double seconds = median_seconds(
        entry.fn, end, w, native ? code_mode::native : code_mode::interpreted, repeats);
    if (w == workers.front()) one = seconds;
    fmt::print("{:>8} {:>8.3f} s {:>8.2f}x\n", w, seconds, one / seconds);
    std::fflush(stdout);
  }
  return 0;
}

int run_contrast(const params& p) {
  const auto workers = p.numbers("workers");
  const long end = p.number("end");
  const int repeats = static_cast<int>(p.number("repeats"));
  fmt::print("primes below {} on std::threads: is_prime holding the GIL, then releasing it\n", end);
  fmt::print("median of {} runs after a warm-up; this machine has {} cores\n\n", repeats, cores());
  fmt::print("{:>8} {:>14} {:>9} {:>14} {:>9}\n", "workers", "under the GIL", "speedup",
             "GIL released", "speedup");
  double gil_one = 0, native_one = 0;
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
  }
  return 0;
}

const registration primes_demo{
    {.name = "primes",
     .summary = "time one stage of the primes solution, 1 worker against N",
     .params = {param::number("stage", 1, {1, 3}), param::numbers("workers", {1, 5}, worker_counts),
                param::flag("native", false), param::number("end", 40'000, ends),
                param::number("repeats", 3, repeat_counts)},
     .run = run_primes}};
const registration contrast_demo{
    {.name = "gil.contrast",
     .summary = "threads under the GIL against threads without it",
     .params = {param::numbers("workers", {1, 2, 4}, worker_counts),
                param::number("end", 40'000, ends), param::number("repeats", 3, repeat_counts)},
     .run = run_contrast}};

}  // namespace
}  // namespace lab::demos
