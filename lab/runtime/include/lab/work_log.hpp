// The work log: which numbers were handed to lab's work functions, by which
// thread of which process, and when.
//
// The checks use it to see that the work was really done by the workers (not
// guessed from timing): every number tested exactly once, by threads other
// than the caller, or by child processes; the workers running at the same
// time (they can be made to meet, see meet()); and every worker thread ended,
// not detached, by the time the function returned. It lives in memory shared
// with fork()ed children (mmap MAP_SHARED), so a process pool's calls are
// counted too.
#pragma once

#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace lab::work_log {

// One worker: a thread of a process.
struct worker {
  pid_t pid = 0;
  pid_t tid = 0;
  std::uint64_t calls = 0;
  // When its first call and its last call began, in nanoseconds on
  // CLOCK_MONOTONIC: one clock for every process of the machine, so the
  // intervals of threads and of forked children compare. The first call is
  // taken before a meeting's wait (see meet()), the last after it.
  std::int64_t first_call_ns = 0;
  std::int64_t last_call_ns = 0;
  // The thread has ended: its thread_local objects were destroyed, which
  // happens before join() returns. Never set for a process's main thread or
  // for a child that ends with _exit(), which destroy none.
  bool ended = false;
  bool detached = false;  // when it ended, it was detached (nobody could join it)
};

struct summary {
  std::vector<std::uint32_t> calls_per_number;  // index n: how often n was recorded
  std::uint64_t out_of_range = 0;               // calls for numbers < 0 or >= the logged range
  std::vector<worker> workers;                  // in order of first call
  bool workers_overflowed = false;              // more distinct workers than the log can hold
};

// Starts a fresh log for numbers in [0, end). Replaces any earlier log.
// Call it from the checking thread before starting the work.
void start(std::size_t end);

// Records one call for n from the calling thread. Does nothing when no log
// is started. Safe from any thread and from forked children. In a meeting
// (meet()), a worker's first call waits here.
void record(long n);

// Makes the workers of this log meet: from now on, each worker (a thread or
// a child process) waits in its first call until `workers` workers have made
// their first call, so that none of them gets past its first number before
// the last one has started. Workers that run one after the other never meet:
// the first waits for ever. The checking thread watches the progress figures
// below (lab::check::wait_for_progress) and calls release() when they stand
// still. Call after start(), before the work starts.
void meet(int workers);

// Lets every waiting worker go on, and the ones after them pass without
// waiting. Safe from any thread.
void release();

// Progress figures, safe to read while the workers run: calls recorded so
// far, workers seen so far, and whether the meeting is complete (all of its
// workers arrived, whether or not release() was called since).
std::uint64_t calls_so_far();
std::size_t workers_so_far();
bool met();

// Reads the log. Call after the workers have finished (joined or waited
// for): that is what makes their relaxed updates visible here. Read earlier,
// it is a snapshot that may lag behind.
summary read();

// Ends the log. Its memory stays mapped until the process ends: a thread
// that a wrong submission left running (detached) may still write to it,
// and must not crash the check program by doing so. A check program starts
// a few dozen logs of at most a megabyte each.
void stop();

}  // namespace lab::work_log
