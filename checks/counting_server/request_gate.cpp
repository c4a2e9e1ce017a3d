// The simulated request the student's handler calls (see request_gate.hpp).
#include "request_gate.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>

// Declared in the student's file: the slow part of a request.
std::chrono::steady_clock::duration simulate_request();

namespace gate {
namespace {

// True if the calling thread is detached.
bool calling_thread_detached() {
  pthread_attr_t attributes;
  if (pthread_getattr_np(pthread_self(), &attributes) != 0) return false;
  int detach_state = PTHREAD_CREATE_JOINABLE;
  pthread_attr_getdetachstate(&attributes, &detach_state);
  pthread_attr_destroy(&attributes);
  return detach_state == PTHREAD_CREATE_DETACHED;
}

// Made by a handler thread's first call; its destructor runs as the thread
// ends, before a join() of that thread returns.
struct end_watch {
  ~end_watch() {
    // Asked as late as possible: a server that detaches its threads has
    // done so long before its handler ends.
    const bool detached = calling_thread_detached();
    state& g = the_gate();
    std::scoped_lock lock(g.mu);
    g.ends.push_back({gettid(), detached});
  }
};

}  // namespace

state& the_gate() {
  static state* const g = new state;  // never destroyed: see state
  return *g;
}

void reset() {
  state& g = the_gate();
  {
    std::scoped_lock lock(g.mu);
    g.shut = false;
    g.serve_tid = 0;
    g.visits.clear();
    g.ends.clear();
  }
  g.opened.notify_all();
}

void set_serve_thread(long tid) {
  state& g = the_gate();
  std::scoped_lock lock(g.mu);
  g.serve_tid = tid;
}

void set_shut(bool shut) {
  state& g = the_gate();
  {
    std::scoped_lock lock(g.mu);
    g.shut = shut;
  }
  if (!shut) g.opened.notify_all();
}

std::vector<visit> visits() {
  state& g = the_gate();
  std::scoped_lock lock(g.mu);
  return g.visits;
}

std::vector<thread_end> ends() {
  state& g = the_gate();
  std::scoped_lock lock(g.mu);
  return g.ends;
}

std::uint64_t progress() {
  state& g = the_gate();
  std::scoped_lock lock(g.mu);
  const auto done =
      std::count_if(g.visits.begin(), g.visits.end(), [](const visit& v) { return v.done; });
  return g.visits.size() + static_cast<std::uint64_t>(done);
}

}  // namespace gate

std::chrono::steady_clock::duration simulate_request() {
  const auto came = gate::clock_type::now();
  thread_local gate::end_watch watch;  // made on the first call of this thread
  (void)watch;
  gate::state& g = gate::the_gate();
  const long tid = gettid();
  std::unique_lock lock(g.mu);
  const bool on_serve_thread = tid == g.serve_tid;
  const std::size_t mine = g.visits.size();
  g.visits.push_back({tid, on_serve_thread, came, {}, false});
  if (!on_serve_thread) g.opened.wait(lock, [&g] { return !g.shut; });
  const auto left = gate::clock_type::now();
  if (mine < g.visits.size() && g.visits[mine].tid == tid) {  // else a reset cleared them
    g.visits[mine].left = left;
    g.visits[mine].done = true;
  }
  return left - came;
}
