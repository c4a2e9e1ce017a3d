// A start gate that threads spin at until all of them have arrived.
//
// Demos that race threads against each other, or time them together, need
// the threads to actually run at the same time. Starting a thread takes
// longer than many increments, so without a gate the first thread can be
// done before the second begins. Spinning (instead of sleeping, as
// std::latch may) matters: waking a sleeping thread can take longer than the
// whole race.
#pragma once

#include <atomic>
#include <thread>

namespace lab::demos {

class spin_gate {
 public:
  explicit spin_gate(long parties) : parties_(parties) {}

  // Returns once `parties` threads have called it. Sequentially consistent
  // (the default): the gate is not a hot path, and the plainest order is the
  // easiest to reason about.
  void arrive_and_wait() {
    arrived_.fetch_add(1);
    while (arrived_.load() < parties_) std::this_thread::yield();
  }

 private:
  const long parties_;
  std::atomic<long> arrived_{0};
};

}  // namespace lab::demos
