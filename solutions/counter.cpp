// Solution: counter                                  lesson: races (`bin/lab lesson races`)
//
// Two ways to make `++count` safe for many threads. Run `bin/lab solution
// counter` and compare the cost of an increment: the mutex makes every
// increment take and release a lock; the atomic is one instruction that the
// cores agree on.
#include <atomic>
#include <mutex>

// Stage 1: a counter guarded by a mutex.
class locked_counter {
 public:
  // Called by many threads at once: the lock makes read-add-write one step
  // as far as other threads can tell.
  void increment() {
    std::scoped_lock lock(mu_);  // like Python's `with lock:`; unlocks at the brace
    ++count_;
  }
  // Called after every incrementing thread was joined (join() orders their
  // writes before this read), but taking the lock costs little and keeps the
  // rule simple: every access to count_ holds mu_.
  long value() const {
    std::scoped_lock lock(mu_);
    return count_;
  }

 private:
  mutable std::mutex mu_;
  long count_ = 0;  // guarded by mu_
};

// Stage 2: a lock-free counter.
class atomic_counter {
 public:
  // fetch_add is one indivisible read-add-write. Relaxed order is enough:
  // nothing else is published through the counter, and the reader runs after
  // join(), which makes every increment visible.
  void increment() { count_.fetch_add(1, std::memory_order_relaxed); }
  long value() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<long> count_{0};
};

// The checks call these.
void counter_increment(locked_counter& c) {
  c.increment();
}
long counter_value(const locked_counter& c) {
  return c.value();
}
void counter_increment(atomic_counter& c) {
  c.increment();
}
long counter_value(const atomic_counter& c) {
  return c.value();
}
locked_counter* make_locked_counter() {
  return new locked_counter;
}
atomic_counter* make_atomic_counter() {
  return new atomic_counter;
}
void destroy(locked_counter* c) {
  delete c;
}
void destroy(atomic_counter* c) {
  delete c;
}
