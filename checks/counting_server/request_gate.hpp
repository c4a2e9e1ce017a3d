// The simulated request, as the check gives it to the student's server.
//
// The student's handler calls simulate_request() once per client, between
// taking its number and replying. Here it is a gate the check controls:
// while the gate is shut, every call waits inside it, so the check can hold
// several clients in the middle of their requests at once, then let them all
// go. What each call did is recorded (which thread, when it came in and
// left, whether serve()'s own thread made it), and each handler thread's end
// too (a thread_local object, destroyed as the thread ends: before join()
// returns for a joined thread). The checks decide from these records and
// from /proc, never from how long anything took.
//
// A call from the thread that runs serve() itself is never held: that
// server serves one client at a time, and holding its only thread would
// stop it from accepting the client the check is waiting for.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

namespace gate {

using clock_type = std::chrono::steady_clock;

// One call of simulate_request().
struct visit {
  long tid = 0;
  bool on_serve_thread = false;
  clock_type::time_point came, left;  // `left` is meaningful once `done`
  bool done = false;
};

// One handler thread that ended, as its thread_local watch saw it.
struct thread_end {
  long tid = 0;
  bool detached = false;  // nobody could have joined it
};

// Everything the gate records, guarded by `mu`. One for the whole check
// program and never destroyed: a handler thread left behind by a check that
// failed may still come through after the check ended.
struct state {
  std::mutex mu;
  std::condition_variable opened;
  bool shut = false;             // calls wait inside while it is shut
  long serve_tid = 0;            // the thread that runs serve() now
  std::vector<visit> visits;     // this check's calls, in the order they came
  std::vector<thread_end> ends;  // handler threads that ended in this check
};

state& the_gate();

// Clears the records and opens the gate: the start of a check.
void reset();

// Names the thread that runs serve() (its calls are never held).
void set_serve_thread(long tid);

// Shuts or opens the gate. Opening lets every waiting call go.
void set_shut(bool shut);

// Copies of the records, taken under the lock.
std::vector<visit> visits();
std::vector<thread_end> ends();

// Calls in so far plus calls done: grows whenever a handler gets somewhere.
std::uint64_t progress();

}  // namespace gate
