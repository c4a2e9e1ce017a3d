// Exercise: gil                                        lesson: gil (`bin/lab lesson gil`)
//
// Goal: build the lab's GIL analogue yourself, the way CPython 3.2+ does it.
//   1. a lock threads can wait for: acquire() blocks while another thread
//      holds it, release() lets one waiter in. (std::mutex would do, but a
//      mutex cannot be asked to let go; the GIL must be, so it is built from
//      a std::mutex that guards a `locked_` flag and a condition variable.)
//   2. the handoff: a thread that has waited one switch interval sets a drop
//      request; the holder, at its next safepoint(), lets go and then waits
//      until another thread has really taken the lock (forced switching)
//      before it queues up again, so it cannot grab it straight back.
//
// The checks start threads that call acquire(), release() and safepoint()
// and watch for: two holders at once, a waiter never woken, a waiter never
// let in while the holder runs safepoints, and a thread starved for its turn.
//
// Run the checks:  bin/lab exercise gil            (or --stage 1)
// Stuck?           bin/lab hint gil
// The real one:    lab/runtime/src/gil.cpp (read it after you are done).
#include <lab/todo.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

class student_gil {
 public:
  explicit student_gil(std::chrono::microseconds interval) : interval_(interval) {}

  // Blocks until the calling thread holds the lock.
  // Precondition: the calling thread does not hold it.
  void acquire() {
    // TODO stage 1: wait on cv_ while locked_, then take it.
    // TODO stage 2: wait at most interval_ at a time; if the lock did not
    // change hands meanwhile, set drop_request_.
    lab::todo("stage 1: wait until the lock is free, then take it");
  }

  // Lets go of the lock and wakes the threads waiting for it.
  // Precondition: the calling thread holds it.
  void release() { lab::todo("stage 1: mark the lock free and wake a waiter"); }

  // Called by the holder every so often, like CPython's eval loop between
  // bytecodes. Cheap when nobody asked: read drop_request_ without mu_.
  // Precondition: the calling thread holds the lock.
  void safepoint() {
    lab::todo("stage 2: if a drop was requested, let go, wait for the switch, take it again");
  }

 private:
  const std::chrono::microseconds interval_;  // the switch interval
  std::mutex mu_;
  std::condition_variable cv_;
  bool locked_ = false;  // guarded by mu_
  // TODO stage 2: count the switches (guarded by mu_), so that a waiter can
  // tell whether the lock changed hands while it waited.
  std::atomic<bool> drop_request_{false};  // read by safepoint() without mu_
};

// The checks call these; leave them as they are.
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
