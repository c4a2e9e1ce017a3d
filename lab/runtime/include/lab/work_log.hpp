// The work log: which numbers were handed to lab's work functions, and by
// which thread of which process.
//
// The checks use it to see that the work was really done by the workers (not
// guessed from timing): every number tested exactly once, by threads other
// than the caller, or by child processes. It lives in memory shared with
// fork()ed children (mmap MAP_SHARED), so a process pool's calls are counted
// too.
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
// is started. Safe from any thread and from forked children.
void record(long n);

// Reads the log. Call after the workers have finished (joined or waited
// for): that is what makes their relaxed updates visible here.
summary read();

// Ends the log and frees its memory.
void stop();

}  // namespace lab::work_log
