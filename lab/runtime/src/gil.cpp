// The GIL analogue. See lab/gil.hpp for what it models and why.
//
// lesson: gil
#include "lab/gil.hpp"

#include <pthread.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <new>
#include <thread>

#include "lab/protocol.hpp"

namespace lab::gil {
namespace {

struct gil_state {
  std::mutex mu;
  std::condition_variable became_free;  // signalled when `locked` turns false
  std::condition_variable switched;     // signalled when a thread takes the lock

  // guarded by mu:
  bool locked = false;
  std::uint64_t switch_number = 0;  // counts acquisitions: "has the holder changed?"
  stats counters;

  // Read at every safepoint without taking mu: the fast path of a holder that
  // nobody waits for must cost one load. Written under mu.
  std::atomic<bool> drop_request{false};
  // Settings: read on every wait, written rarely, from any thread. Their
  // defaults are stated in lab/protocol.hpp, with the ranges lab accepts.
  std::atomic<long long> interval_us{
      static_cast<long long>(protocol::settings::interval_ms_default * 1000)};
  std::atomic<bool> force{protocol::settings::forced_default};
};

// The one lock of this process. Never destroyed (threads may still use it
// while static destructors run at exit), and re-created in a forked child.
alignas(gil_state) unsigned char storage[sizeof(gil_state)];
gil_state* state = nullptr;
std::once_flag created;

// Whether the calling thread holds the lock. Inherited by the forking thread
// in a child process, which is exactly what the child's fresh lock needs.
thread_local bool holding = false;

void prepare_fork() {
  state->mu.lock();
}
void parent_after_fork() {
  state->mu.unlock();
}

// In the child only the forking thread exists: every waiter is gone, so the
// lock is rebuilt from scratch, held iff the forking thread held it.
void child_after_fork() {
  const long long interval = state->interval_us.load(std::memory_order_relaxed);
  const bool force = state->force.load(std::memory_order_relaxed);
  state = new (storage) gil_state;  // the old mutex may be unusable: do not destroy it
  state->interval_us.store(interval, std::memory_order_relaxed);
  state->force.store(force, std::memory_order_relaxed);
  state->locked = holding;
}

gil_state& the_gil() {
  std::call_once(created, [] {
    state = new (storage) gil_state;
    pthread_atfork(prepare_fork, parent_after_fork, child_after_fork);
  });
  return *state;
}

// Takes the lock for the calling thread. Caller holds g.mu (in `lock`).
void take(gil_state& g) {
  g.locked = true;
  ++g.switch_number;
  ++g.counters.acquisitions;
  // Relaxed: mu orders this store with the next waiter's check of it.
  g.drop_request.store(false, std::memory_order_relaxed);
  holding = true;
  g.switched.notify_all();
}

}  // namespace

void acquire() {
  gil_state& g = the_gil();
  std::unique_lock lock(g.mu);
  while (g.locked) {
    const std::uint64_t holder = g.switch_number;
    const auto interval = std::chrono::microseconds(g.interval_us.load(std::memory_order_relaxed));
    const bool freed = g.became_free.wait_for(lock, interval, [&] { return !g.locked; });
    // Waited a whole interval and the same holder still has it: ask it to let go.
    if (!freed && g.switch_number == holder && !g.drop_request.load(std::memory_order_relaxed)) {
      // Relaxed: the holder only needs to see it eventually, at a safepoint;
      // the handoff itself is ordered by mu.
      g.drop_request.store(true, std::memory_order_relaxed);
      ++g.counters.drop_requests;
    }
  }
  take(g);
}

void release() {
  gil_state& g = the_gil();
  std::unique_lock lock(g.mu);
  const bool asked = g.drop_request.load(std::memory_order_relaxed);
  g.locked = false;
  holding = false;
  const std::uint64_t mine = g.switch_number;
  g.became_free.notify_one();
  // Forced switching: a holder that was asked to let go must not take the
  // lock straight back (it would usually win: it is already running). Wait
  // until the waiter that asked has taken it. A drop request always has a
  // waiter behind it, so this wait ends.
  if (asked && g.force.load(std::memory_order_relaxed)) {
    g.switched.wait(lock, [&] { return g.switch_number != mine; });
    ++g.counters.forced_switches;
  }
}

bool held() {
  return holding;
}

void safepoint() {
  gil_state& g = the_gil();
  if (!g.drop_request.load(std::memory_order_relaxed)) return;  // nobody waits: carry on
  release();
  acquire();
}

void set_switch_interval(std::chrono::microseconds interval) {
  the_gil().interval_us.store(interval.count() < 1 ? 1 : interval.count(),
                              std::memory_order_relaxed);
}

std::chrono::microseconds switch_interval() {
  return std::chrono::microseconds(the_gil().interval_us.load(std::memory_order_relaxed));
}

void set_force_switching(bool on) {
  the_gil().force.store(on, std::memory_order_relaxed);
}
bool force_switching() {
  return the_gil().force.load(std::memory_order_relaxed);
}

stats get_stats() {
  gil_state& g = the_gil();
  std::scoped_lock lock(g.mu);
  return g.counters;
}

void reset_stats() {
  gil_state& g = the_gil();
  std::scoped_lock lock(g.mu);
  g.counters = {};
}

}  // namespace lab::gil

namespace lab {

gil_hold::gil_hold() : acquired_(!gil::held()) {
  if (acquired_) gil::acquire();
}
gil_hold::~gil_hold() {
  if (acquired_) gil::release();
}

gil_release::gil_release() : released_(gil::held()) {
  if (released_) gil::release();
}
gil_release::~gil_release() {
  if (released_) gil::acquire();
}

}  // namespace lab
