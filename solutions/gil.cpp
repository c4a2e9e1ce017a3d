// Solution: gil                                        lesson: gil (`bin/lab lesson gil`)
//
// The GIL analogue in its plainest form: a flag guarded by a mutex, a
// condition variable to sleep on, a drop request and a switch counter.
// lab/runtime/src/gil.cpp is the same design with statistics and fork
// handling added.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

class student_gil {
 public:
  explicit student_gil(std::chrono::microseconds interval) : interval_(interval) {}

  // Blocks until the calling thread holds the lock.
  // Precondition: the calling thread does not hold it.
  void acquire() {
    std::unique_lock lock(mu_);
    wait_and_take(lock);
  }

  // Lets go of the lock and wakes the threads waiting for it.
  // Precondition: the calling thread holds it.
  void release() {
    {
      std::scoped_lock lock(mu_);
      locked_ = false;
    }
    // notify_all, not notify_one: besides the waiters in acquire(), a holder
    // in forced switching may be waiting on cv_ for the switch. Notifying
    // after unlocking saves the woken thread from blocking on mu_ at once.
    cv_.notify_all();
  }

  // Called by the holder every so often. Cheap when nobody asked.
  // Precondition: the calling thread holds the lock.
  void safepoint() {
    // Relaxed is enough: this load only decides whether to take mu_, and
    // everything after it happens under mu_, which orders it properly. A
    // request seen late just means the switch comes one safepoint later.
    if (!drop_request_.load(std::memory_order_relaxed)) return;
    std::unique_lock lock(mu_);
    const std::uint64_t before = switches_;
    locked_ = false;
    drop_request_.store(false, std::memory_order_relaxed);
    cv_.notify_all();
    // Forced switching: do not queue up again until another thread has
    // taken the lock. Without this, the holder, already running, usually
    // takes the lock back before the sleeping waiter has even woken up, and
    // the waiter starves (CPython's GIL before 3.2 had this convoy problem).
    cv_.wait(lock, [&] { return switches_ != before; });
    wait_and_take(lock);
  }

 private:
  // Waits until the lock is free and takes it. Precondition: `lock` holds mu_.
  void wait_and_take(std::unique_lock<std::mutex>& lock) {
    while (locked_) {
      const std::uint64_t seen = switches_;
      // Wait up to one interval for the holder to let go by itself...
      const bool freed = cv_.wait_for(lock, interval_, [&] { return !locked_; });
      // ...and if it did not, and nobody else got the lock meanwhile, ask it
      // to. (If the lock changed hands, the new holder gets a full interval.)
      if (!freed && switches_ == seen) drop_request_.store(true, std::memory_order_relaxed);
    }
    locked_ = true;
    ++switches_;
    // A request made of the previous holder is not meant for this one: left
    // set, it would make the new holder drop at its first safepoint and then
    // wait, maybe forever, for a switch that nobody is waiting to make.
    drop_request_.store(false, std::memory_order_relaxed);
    cv_.notify_all();  // a holder in forced switching waits for this
  }

  const std::chrono::microseconds interval_;  // the switch interval
  std::mutex mu_;
  std::condition_variable cv_;             // "the lock is free" and "the lock changed hands"
  bool locked_ = false;                    // guarded by mu_
  std::uint64_t switches_ = 0;             // guarded by mu_: times the lock was taken
  std::atomic<bool> drop_request_{false};  // set under mu_; read by safepoint() without it
};

// The checks call these.
student_gil* make_gil(std::chrono::microseconds interval) {
  return new student_gil(interval);
}
void destroy(student_gil* gil) {
  delete gil;
}
void gil_acquire(student_gil& gil) {
  gil.acquire();
}
void gil_release(student_gil& gil) {
  gil.release();
}
void gil_safepoint(student_gil& gil) {
  gil.safepoint();
}
