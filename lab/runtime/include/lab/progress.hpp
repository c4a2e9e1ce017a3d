// Deciding liveness from evidence, never from the clock.
//
// A check that waits for the code under test ("the waiter gets in", "every
// transfer finishes") must not fail correct code because the machine is busy
// (a class graded on a shared CI runner), nor wait forever for broken code.
// So a wait gives up only on evidence:
//
//   * stuck: the code made no progress while it had every chance to. The
//     chance is wall time in which this process's threads were running or
//     blocked, not time they spent waiting for a CPU that others held (the
//     run queue delay in /proc/self/task/*/schedstat). A deadlock or a lost
//     wake-up blocks, an endless loop runs: both use their chance up.
//   * too_busy: no progress, but the machine gave the process almost no
//     chance for a long stretch of wall time. That is no verdict on the code:
//     the check says "the machine was too busy to decide" (undecided()).
//
// lesson: gil (and every exercise's checks)
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace lab::check {

// CPU time and run-queue wait of every thread of this process so far (but
// `except_thread`, a thread id), in seconds (schedstat). Threads that already
// ended are not counted: callers compare two readings over a short stretch.
struct cpu_reading {
  double running = 0;      // on a CPU
  double waiting_cpu = 0;  // runnable, but waiting for a CPU
};
cpu_reading read_cpu(long except_thread = 0);

enum class wait_result { done, stuck, too_busy };

struct wait_report {
  wait_result result = wait_result::done;
  double waited = 0;  // wall seconds of the whole wait
  double chance = 0;  // seconds of chance since progress last moved
  double stalled = 0;  // wall seconds since progress last moved
  // "no progress in 5.0 s in which it could run (8.2 s of waiting)", or
  // "the machine was too busy to decide: ..." for too_busy.
  std::string describe() const;
};

// Waits until done() is true, polling about every millisecond. The chance is
// measured on every thread but the caller's: a checking thread that waits for
// its own turn on a busy machine says nothing about the code under test.
// progress()
// returns a count that grows whenever the code under test gets something
// done (handoffs so far, transfers finished, ...): any change resets the
// patience. Gives up with `stuck` after `patience` of chance without
// progress, and with `too_busy` after `busy_limit` of wall time without
// progress in which the chance stayed below `patience`.
// Called from the checking thread; done() and progress() must be safe to
// call from it while the code under test runs.
wait_report wait_for_progress(const std::function<bool()>& done,
                              const std::function<std::uint64_t()>& progress,
                              std::chrono::milliseconds patience = std::chrono::seconds(5),
                              std::chrono::milliseconds busy_limit = std::chrono::seconds(120));

// Marks the check in progress as undecided: it fails, but lab reports it as
// "the machine was too busy to decide", not as a mistake in the code. Call it
// from the checking thread, then end the check (REQUIRE / return).
void undecided(const std::string& why);

}  // namespace lab::check
