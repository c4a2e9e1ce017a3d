// Threads a gil check starts, gates between them, and waiting for them by
// progress instead of by the clock.
//
// A check must not fail a correct lock because the machine is busy, nor wait
// forever for a broken one. So the checking thread waits with
// lab::check::wait_for_progress (lab/progress.hpp): it gives up only when
// the threads made no progress while they had every chance to run ("stuck":
// a lost wake-up, a deadlock), and says "too busy to decide" when the machine
// did not give them that chance.
//
// Threads that got stuck inside the student's lock cannot be joined. They
// are left behind (detached), so everything they touch must outlive the
// check: each check keeps its shared state on the heap, held by a shared_ptr
// that the threads copy, and never destroys a lock that threads may still be
// stuck in. The harness ends the program after the report, taking them along.
#pragma once

#include <lab/check.hpp>
#include <lab/progress.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace watch {

// Threads started by one check: joined once they finished, left behind
// (detached) if the check ends while they may still be stuck.
class crew {
 public:
  crew() = default;
  crew(const crew&) = delete;
  crew& operator=(const crew&) = delete;
  ~crew() {
    for (auto& thread : threads_)
      if (thread.joinable()) thread.detach();
  }

  // Starts body() on a new thread. body must own what it touches (see above).
  template <typename Body>
  std::thread& start(Body body) {
    return threads_.emplace_back(std::move(body));
  }

  // Call only when every thread is known to have finished (or to be about to).
  void join() {
    for (auto& thread : threads_)
      if (thread.joinable()) thread.join();
  }

 private:
  std::vector<std::thread> threads_;
};

// Waits until done(), with progress() counting what the threads get done.
// True if done. Otherwise the check has already failed with stuck() and the
// figures of the wait, or is marked undecided (the machine was too busy), and
// the caller must end the check at once, leaving the threads' state alone.
// Called from the checking thread.
inline bool until(const std::function<bool()>& done, const std::function<std::uint64_t()>& progress,
                  const std::function<std::string()>& stuck) {
  const lab::check::wait_report report = lab::check::wait_for_progress(done, progress);
  switch (report.result) {
    case lab::check::wait_result::done:
      return true;
    case lab::check::wait_result::stuck:
      FAIL_CHECK(stuck(), " (", report.describe(), ")");
      return false;
    case lab::check::wait_result::too_busy:
      lab::check::undecided(report.describe());
      return false;
  }
  return false;
}

// Gates: one thread publishes a number (a round, a count), another waits for
// it. The waiter spins a little first, since the number is often about to
// come and a sleeping waiter would take long to wake, then sleeps in the
// kernel, so that a waiter left behind by a failed check uses no CPU.

// A pause of `spins` rounds of a loop the compiler must keep.
inline void spin(int spins) {
  for (int i = 0; i < spins; ++i) asm volatile("" ::: "memory");
}

// Spins a little while `number` is below `wanted`; true if it got there.
inline bool await_a_while(const std::atomic<int>& number, int wanted) {
  constexpr int spins = 1 << 14;
  for (int i = 0; i < spins; ++i) {
    if (number.load(std::memory_order_acquire) >= wanted) return true;
    spin(8);
  }
  return false;
}

// Waits until `number` is at least `wanted`. Acquire: what the publisher
// wrote before publishing is visible after.
inline void await(const std::atomic<int>& number, int wanted) {
  if (await_a_while(number, wanted)) return;
  for (int seen = number.load(std::memory_order_acquire); seen < wanted;
       seen = number.load(std::memory_order_acquire))
    number.wait(seen, std::memory_order_acquire);
}

// Publishes `value` and wakes the threads that await it. Release: pairs with
// await's acquire.
inline void publish(std::atomic<int>& number, int value) {
  number.store(value, std::memory_order_release);
  number.notify_all();
}

}  // namespace watch
