// Exercise: scheduler                            lesson: coroutines (`bin/lab lesson coroutines`)
//
// Goal: the round-robin scheduler of lecture 004, for C++20 coroutines. A
// task (lab/coop_task.hpp: read it first) is a coroutine that co_yields what
// it waits for: yield_now{} (let the others run), sleep_for{d}, readable{fd}.
// Your scheduler is the loop that steps the tasks in turn, on one thread:
//   1. round robin: the ready tasks in turn, first come first served (the
//      lecture's `coro1 1, coro2 1, coro1 2, ...`); when a task's body ends,
//      its result, or the exception it threw, goes to its handle's get()
//   2. sleeping: sleepers wake in the order of their deadlines, and while
//      every task sleeps the thread sleeps too (no busy waiting)
//   3. descriptors: a task waiting for readable{fd} runs again once poll()
//      says fd can be read; cancel() ends a task at once and runs its clean-up
// Why these three: each adds one place a task can wait in (a queue, a heap
// of deadlines, the kernel's poll()), and together they are an event loop,
// the one asyncio and lab::event_loop (lab/event_loop.hpp) are built on.
//
// The clock is given to you (time_): use time_.now() and
// time_.sleep_until(), never std::chrono or std::this_thread directly. The
// checks pass a virtual clock, whose time moves only when you sleep, so the
// order in which your sleepers wake is exact.
//
// Run the checks:  bin/lab exercise scheduler          (or --stage 2)
// Stuck?           bin/lab hint scheduler
#include <lab/coop_task.hpp>
#include <lab/todo.hpp>

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <deque>
#include <memory>
#include <queue>
#include <stdexcept>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

using lab::coop::readable;
using lab::coop::sleep_for;
using lab::coop::task;
using lab::coop::task_handle;
using lab::coop::task_state;
using lab::coop::time_point;
using lab::coop::time_source;
using lab::coop::yield_now;

class scheduler {
 public:
  explicit scheduler(time_source time = lab::coop::real_time()) : time_(std::move(time)) {}
  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  // Takes a task over and queues it at the back of the ready queue: its body
  // starts at its first turn. Also called from inside running tasks.
  task_handle spawn(task body) {
    // TODO (stage 1): make its task_state (std::make_shared), give it an id
    // (state->id = next_id_++), keep {body, state} in tasks_ under that id,
    // queue the id at the back of ready_, and return task_handle(state).
    (void)body;
    lab::todo("stage 1: spawn(): keep the task in tasks_ and queue its id in ready_");
  }

  // Steps the tasks until every one has ended (or been cancelled).
  void run() {
    // TODO (stage 1): while tasks_ is not empty: take the id at the front of
    // ready_ and step() it.
    // Stage 2: on every turn, wake_due_sleepers() first; when nothing is
    // ready, sleep_until_next_deadline().
    // Stage 3: on every turn, if some task waits for a descriptor,
    // poll_descriptors(): timeout 0 when tasks are ready, else
    // milliseconds_to_next_deadline().
    lab::todo("stage 1: run(): step the task at the front of ready_ until every task has ended");
  }

  // Ends a task that has not ended: never resumed again, its frame destroyed
  // now (the destructors of its locals run: its clean-up), its get() throws
  // task_cancelled.
  void cancel(const task_handle& handle) {
    // TODO (stage 3): find handle.state()->id in tasks_ (not there: it has
    // ended, do nothing); set cancelled in its state; drop its entries from
    // waiting_; erase its record (that destroys the task). Its id may still
    // be in ready_ or sleepers_: make step() and the sleepers skip ids that
    // are no longer in tasks_.
    (void)handle;
    lab::todo("stage 3: cancel(): mark the task cancelled and destroy it now");
  }

 private:
  struct record {
    task body;
    std::shared_ptr<task_state> state;  // shared with the task's handles
  };
  struct sleeper {
    time_point deadline;
    unsigned long order;  // ties wake in the order they went to sleep
    unsigned long id;
    // std::priority_queue keeps its *greatest* element on top, and the
    // earliest deadline must come out first. TODO (stage 2): return true
    // when *this should wake after `other`.
    bool operator<(const sleeper& other) const {
      (void)other;
      lab::todo("stage 2: sleeper::operator<: the earliest deadline must be on top of the heap");
    }
  };
  struct descriptor_wait {
    int fd;
    unsigned long id;
  };

  // Runs task `id` to its next co_yield or its end, then files it under
  // what it waits for.
  void step(unsigned long id) {
    // TODO (stage 1): find the record (gone from tasks_: cancelled, skip it);
    // r.body.step(); if r.body.done(): finish(r) and erase the record by id
    // (an iterator taken before step() may be stale: a task that spawns
    // others can make the map rehash); if it yielded yield_now (std::get_if
    // on r.body.waiting_for()), queue its id at the back of ready_.
    // Stage 2: sleep_for{d}: push {time_.now() + d.how_long, next_order_++, id} on sleepers_.
    // Stage 3: readable{fd}: remember {fd, id} in waiting_.
    (void)id;
    lab::todo("stage 1: step(): resume the task, then finish it or queue it again");
  }

  // The body has ended: its result, or the exception it threw, goes to its
  // state, where get() finds it.
  static void finish(record& r) {
    // TODO (stage 1): copy result() and error() into the state; finished = true.
    (void)r;
    lab::todo("stage 1: finish(): hand the task's result and exception to its task_state");
  }

  // Moves every sleeper whose deadline has come to the back of ready_.
  void wake_due_sleepers() {
    if (sleepers_.empty()) return;
    lab::todo(
        "stage 2: wake_due_sleepers(): move the sleepers whose deadline <= time_.now() to ready_");
  }

  // Nothing ready, no descriptor to watch: sleep until the earliest deadline.
  void sleep_until_next_deadline() {
    lab::todo("stage 2: sleep_until_next_deadline(): one time_.sleep_until(earliest deadline)");
  }

  // poll()'s timeout: the milliseconds to the earliest deadline, rounded up,
  // or -1 (forever) when nobody sleeps.
  int milliseconds_to_next_deadline() {
    lab::todo("stage 3: milliseconds_to_next_deadline(): std::chrono::ceil of (deadline - now)");
  }

  // Waits up to `timeout_ms` for a watched descriptor to become readable, and
  // moves the tasks waiting for the ready ones to ready_.
  void poll_descriptors(int timeout_ms) {
    (void)timeout_ms;
    lab::todo(
        "stage 3: poll_descriptors(): ::poll() the waiting descriptors, ready ones to ready_");
  }

  time_source time_;
  std::unordered_map<unsigned long, record> tasks_;  // every task not yet ended, by id
  std::deque<unsigned long> ready_;
  std::priority_queue<sleeper> sleepers_;
  std::vector<descriptor_wait> waiting_;
  unsigned long next_id_ = 1;
  unsigned long next_order_ = 0;
};

// ---------------------------------------------------------------------------
// The checks use your scheduler through the functions below; leave them as
// they are.

scheduler* make_scheduler(time_source time) {
  return new scheduler(std::move(time));
}
task_handle spawn_on(scheduler* s, task body) {
  return s->spawn(std::move(body));
}
void run_scheduler(scheduler* s) {
  s->run();
}
void cancel_on(scheduler* s, const task_handle& handle) {
  s->cancel(handle);
}
void destroy_scheduler(scheduler* s) {
  delete s;
}
