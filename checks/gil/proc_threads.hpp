// What /proc says about the threads of this process: which state a thread
// is in, and how long it has waited for a CPU. The gil checks use it to tell
// a thread that is blocked from one that is only slow, and to measure the
// chance a thread had to run (lab/progress.hpp does the same for the whole
// process) instead of trusting the wall clock on a busy machine.
#pragma once

#include <chrono>

namespace proc_threads {

// The Linux thread id of the calling thread.
long this_thread_id();

// The state letter of thread `tid` of this process ('R' running or
// runnable, 'S' asleep, 'D' asleep in the kernel), or 0 when it is gone.
char state(long tid);

// True if thread `tid` is asleep ('S' or 'D').
bool asleep(long tid);

// Seconds thread `tid` has spent runnable but waiting for a CPU so far (the
// run queue delay in /proc/self/task/<tid>/schedstat), 0 if unreadable.
double seconds_waiting_for_cpu(long tid);

// The chance thread `tid` has had since the meter was made: the wall time in
// which it was running or asleep, not waiting for a CPU that others held.
class chance_meter {
 public:
  explicit chance_meter(long tid);
  double seconds() const;

 private:
  long tid_;
  std::chrono::steady_clock::time_point since_;
  double queued_before_;
};

}  // namespace proc_threads
