// The GIL analogue: one process-wide lock that "interpreted" work must hold.
//
// lesson: gil
//
// It follows CPython's "new GIL" (3.2+) so that the lab's threads behave like
// Python's threads do:
//   * a thread runs interpreted work only while it holds the lock;
//   * a thread that wants the lock waits at most one switch interval
//     (default 5 ms); if the holder has not let go by then, the waiter sets a
//     drop request;
//   * the holder checks for a drop request at its next safepoint (the analogue
//     of the eval loop's "eval breaker") and lets go; with forced switching on,
//     it then waits until another thread has actually taken the lock, so it
//     cannot grab it straight back;
//   * blocking calls and "native" work release the lock around themselves
//     (gil_release, the analogue of Py_BEGIN_ALLOW_THREADS);
//   * a child made by fork() starts with its own, fresh lock, held by the
//     forking thread if that thread held it in the parent (as CPython's
//     PyOS_AfterFork_Child does).
#pragma once

#include <chrono>
#include <cstdint>

namespace lab::gil {

// Blocks until the calling thread holds the lock.
// Precondition: the calling thread does not hold it.
void acquire();

// Lets go of the lock. If a drop request is pending and forced switching is
// on, waits until some other thread has taken the lock before returning.
// Precondition: the calling thread holds it.
void release();

// True if the calling thread holds the lock.
bool held();

// Called by interpreted work every so often. If another thread has asked for
// the lock (drop request), lets go and takes it again, giving the waiter its
// turn. Cheap when nobody waits: one relaxed atomic load.
// Precondition: the calling thread holds the lock.
void safepoint();

// The switch interval: how long a waiter waits before it sets a drop request.
void set_switch_interval(std::chrono::microseconds interval);
std::chrono::microseconds switch_interval();

// Forced switching (on by default): after a requested drop, the old holder
// waits until another thread has taken the lock.
void set_force_switching(bool on);
bool force_switching();

// Counters since start (or since reset_stats), for demos and tests.
struct stats {
  std::uint64_t acquisitions = 0;     // times any thread took the lock
  std::uint64_t drop_requests = 0;    // times a waiter timed out and asked
  std::uint64_t forced_switches = 0;  // requested drops that handed the lock over
};
stats get_stats();
void reset_stats();

}  // namespace lab::gil

namespace lab {

// Holds the GIL for the lifetime of the object: the region is "interpreted".
// Re-entrant per thread: an inner gil_hold on a thread that already holds the
// lock does nothing.
class gil_hold {
 public:
  gil_hold();
  ~gil_hold();
  gil_hold(const gil_hold&) = delete;
  gil_hold& operator=(const gil_hold&) = delete;

 private:
  bool acquired_;  // false when the thread already held the lock
};

// Releases the GIL for the lifetime of the object and takes it back after:
// the region is "native" or blocking (Py_BEGIN_ALLOW_THREADS ...
// Py_END_ALLOW_THREADS). Does nothing on a thread that does not hold the lock.
class gil_release {
 public:
  gil_release();
  ~gil_release();
  gil_release(const gil_release&) = delete;
  gil_release& operator=(const gil_release&) = delete;

 private:
  bool released_;
};

}  // namespace lab
