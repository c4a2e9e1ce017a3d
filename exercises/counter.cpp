// Exercise: counter                                  lesson: races (`bin/lab lesson races`)
//
// Goal: two counters that many threads can increment at the same time
// without losing a single update.
//   1. locked_counter  protect the count with a std::mutex  (Python: with lock:)
//   2. atomic_counter  make the count a std::atomic          (a lock-free counter)
//
// As written, both have a data race: `++count_` is a read, an add and a
// write, and two threads can interleave them. On 2 cores it may lose nothing
// for a long time, so the checks also run your code under ThreadSanitizer,
// which sees the race even when no update was lost.
//
// Run the checks:  bin/lab exercise counter          (or --stage 2)
// Stuck?           bin/lab hint counter
// Then compare the cost of an increment in the timing table.

// Stage 1: a counter guarded by a mutex.
class locked_counter {
 public:
  // Called by many threads at once.
  void increment() {
    // TODO: take a lock around the increment (std::scoped_lock).
    ++count_;
  }
  // Called after every incrementing thread was joined.
  long value() const { return count_; }

 private:
  // TODO: add a std::mutex, and say in a comment what it guards.
  long count_ = 0;
};

// Stage 2: a lock-free counter.
class atomic_counter {
 public:
  // Called by many threads at once.
  void increment() {
    // TODO: make count_ a std::atomic<long> and use fetch_add; which memory
    // order is enough for a counter that is only read after join()?
    ++count_;
  }
  long value() const { return count_; }

 private:
  long count_ = 0;
};

// The checks call these; leave them as they are.
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
