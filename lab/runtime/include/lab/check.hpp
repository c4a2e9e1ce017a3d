// The hidden-check harness: what a check file under checks/<exercise>/ uses.
//
// A check file is a doctest file: each TEST_CASE is one check, named as a
// sentence ("finds the primes below 50 with 5 workers"). The harness's
// main() runs them with a reporter that sends one JSON line per event over
// the result channel (the file descriptor in LAB_RESULT_FD, else stdout), so
// the driver never has to scrape what the student's code prints.
//
// The driver tells the harness what to do through the environment:
//   LAB_CHECK_STAGE    the stage being checked (1, 2, ...)
//   LAB_CHECK_SEED     the seed for random inputs (printed on failure)
//   LAB_CHECK_MODE     "checks" (default) or "time"
//   LAB_TIME_WORKERS, LAB_TIME_SIZE, LAB_TIME_REPEATS, LAB_TIME_NATIVE
//                      what to time in "time" mode: one warm-up run, then
//                      LAB_TIME_REPEATS timed runs of the stage's timed body.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace lab::check {

// The stage under check (LAB_CHECK_STAGE), 1 if not set.
int stage();

// The run's seed (LAB_CHECK_SEED), fixed if not set. Checks derive every
// random input from it, so a failure can be replayed with `--seed`.
std::uint64_t seed();

// True when the harness was built with ThreadSanitizer; checks use smaller
// inputs then, since TSan makes code 5-15x slower.
bool under_tsan();

// Registers the body that "time" mode runs for one stage: body(size, workers).
struct timed {
  timed(int stage, std::function<void(long size, int workers)> body);
};

// Threads in this process now (entries in /proc/self/task).
std::size_t thread_count();

// Waits up to `patience` for the thread count to fall to `baseline` (a
// thread that was joined or finished may take a moment to vanish from
// /proc). Returns the last count seen.
std::size_t wait_for_threads(std::size_t baseline, std::chrono::milliseconds patience);

// Child processes of this process that were left behind.
struct children_left {
  int running = 0;     // still alive: killed and reaped by this call
  int not_waited = 0;  // finished but never waited for (zombies): reaped by this call
};
// Finds the children left behind, cleans them up so the next check starts
// clean, and says how many there were.
children_left collect_children();

}  // namespace lab::check
