// Solution: scheduler                            lesson: coroutines (`bin/lab lesson coroutines`)
//
// A round-robin scheduler for cooperative tasks on one thread, the one lecture
// 004 builds out of generators: each task is a coroutine that co_yields what it
// waits for (lab/coop_task.hpp), and the scheduler is the loop that resumes
// them. Three places a task can be between its steps:
//   - ready_:    may run now; served first come, first served (round robin)
//   - sleepers_: waits for a moment; a min-heap, so the earliest deadline is on top
//   - waiting_:  waits for a descriptor to become readable; poll() watches them
// When nothing is ready, the thread sleeps (in poll(), or in the clock's
// sleep_until) until the first thing that can make a task ready: it never
// spins.
//
// Single-threaded: spawn(), cancel() and run() are called on one thread, from
// outside run() or from inside a task that run() is stepping. Nothing here
// is shared with another thread, so there are no locks.
#include <lab/coop_task.hpp>

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
  // Tasks still here (never run to their end) are destroyed with their
  // records: their frames go, and their locals' destructors run.

  // Takes a task over and queues it at the back of the ready queue: its body
  // starts at its first turn. Also callable from inside a running task.
  task_handle spawn(task body) {
    auto state = std::make_shared<task_state>();
    state->id = next_id_++;
    ready_.push_back(state->id);
    tasks_.emplace(state->id, record{std::move(body), state});
    return task_handle(state);
  }

  // Steps the tasks until every one has ended or been cancelled.
  void run() {
    while (!tasks_.empty()) {
      wake_due_sleepers();
      if (!waiting_.empty())
        // Ready tasks must not keep descriptors from being looked at: with
        // work to do, just look (timeout 0); with none, wait in the kernel.
        poll_descriptors(ready_.empty() ? milliseconds_to_next_deadline() : 0);
      else if (ready_.empty())
        sleep_until_next_deadline();
      if (!ready_.empty()) {
        const unsigned long id = ready_.front();
        ready_.pop_front();
        step(id);
      }
    }
  }

  // Ends a task that has not ended yet: it is never resumed again, its frame
  // is destroyed now (the destructors of its locals run: its clean-up), and
  // its get() throws task_cancelled. A task that cancels itself ends when it
  // next co_yields (its frame cannot be destroyed while it runs).
  void cancel(const task_handle& handle) {
    const unsigned long id = handle.state()->id;
    const auto found = tasks_.find(id);
    if (found == tasks_.end()) return;  // ended already (or not ours)
    found->second.state->cancelled = true;
    if (id == running_) return;  // step() destroys it when it comes back
    std::erase_if(waiting_, [id](const descriptor_wait& w) { return w.id == id; });
    // Its id may still be in ready_ or sleepers_: they skip ids they no
    // longer find in tasks_ (taking it out of a heap would mean a search).
    tasks_.erase(found);
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
    // std::priority_queue puts its greatest element on top: "greater" here
    // means "later", so the earliest deadline comes out first.
    bool operator<(const sleeper& other) const {
      if (deadline != other.deadline) return deadline > other.deadline;
      return order > other.order;
    }
  };
  struct descriptor_wait {
    int fd;
    unsigned long id;
  };

  // Runs task `id` to its next co_yield (or its end), then files it under
  // what it waits for. An id that is no longer a task was cancelled: skipped.
  void step(unsigned long id) {
    const auto found = tasks_.find(id);
    if (found == tasks_.end()) return;
    // A reference to an element of an unordered_map stays valid while the
    // task spawns others (a rehash moves no element); an iterator would not.
    record& r = found->second;
    running_ = id;
    r.body.step();  // an exception of the body does not come out: the task keeps it
    running_ = 0;
    if (r.state->cancelled) {  // it cancelled itself
      tasks_.erase(id);
    } else if (r.body.done()) {
      finish(r);
      tasks_.erase(id);
    } else if (std::get_if<yield_now>(&r.body.waiting_for())) {
      ready_.push_back(id);
    } else if (const auto* nap = std::get_if<sleep_for>(&r.body.waiting_for())) {
      sleepers_.push({time_.now() + nap->how_long, next_order_++, id});
    } else if (const auto* input = std::get_if<readable>(&r.body.waiting_for())) {
      waiting_.push_back({input->fd, id});
    }
  }

  // The body ended: its result, or the exception it threw, goes to its
  // handle. Catching nothing here is what keeps one task's exception from
  // stopping the others: it reaches only that task's get().
  static void finish(record& r) {
    r.state->error = r.body.error();
    r.state->result = r.body.result();
    r.state->finished = true;
  }

  // Moves every sleeper whose deadline has come to the back of the ready
  // queue, earliest first.
  void wake_due_sleepers() {
    if (sleepers_.empty()) return;
    const time_point now = time_.now();
    while (!sleepers_.empty() && sleepers_.top().deadline <= now) {
      ready_.push_back(sleepers_.top().id);
      sleepers_.pop();
    }
  }

  // Sleepers whose tasks were cancelled: taken off the top, so that nobody
  // waits for their deadlines.
  void drop_cancelled_sleepers() {
    while (!sleepers_.empty() && !tasks_.contains(sleepers_.top().id)) sleepers_.pop();
  }

  // Nothing ready, no descriptor to watch: sleep until the first deadline.
  void sleep_until_next_deadline() {
    drop_cancelled_sleepers();
    if (sleepers_.empty())
      throw std::logic_error("scheduler: tasks are left, but none is ready, sleeping or waiting");
    time_.sleep_until(sleepers_.top().deadline);
  }

  // poll()'s timeout: until the first deadline, rounded up (waking early
  // would only loop back here), or -1 (forever) when nobody sleeps.
  int milliseconds_to_next_deadline() {
    drop_cancelled_sleepers();
    if (sleepers_.empty()) return -1;
    const auto left = sleepers_.top().deadline - time_.now();
    if (left <= left.zero()) return 0;
    return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
  }

  // Waits up to `timeout_ms` for a watched descriptor to become readable
  // (or hung up, or failed: reading it then will not block either), and
  // moves the tasks waiting for the ready ones to the ready queue.
  void poll_descriptors(int timeout_ms) {
    std::vector<pollfd> watched;
    watched.reserve(waiting_.size());
    for (const auto& w : waiting_) watched.push_back({w.fd, POLLIN, 0});
    const int ready_count = ::poll(watched.data(), watched.size(), timeout_ms);
    if (ready_count < 0) {
      if (errno == EINTR) return;  // a signal: just go round the loop again
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    std::vector<descriptor_wait> still_waiting;
    for (std::size_t i = 0; i < waiting_.size(); ++i) {
      if (watched[i].revents != 0)
        ready_.push_back(waiting_[i].id);
      else
        still_waiting.push_back(waiting_[i]);
    }
    waiting_ = std::move(still_waiting);
  }

  time_source time_;
  std::unordered_map<unsigned long, record> tasks_;  // every task not yet ended, by id
  std::deque<unsigned long> ready_;
  std::priority_queue<sleeper> sleepers_;
  std::vector<descriptor_wait> waiting_;
  unsigned long next_id_ = 1;  // 0 is "no task" (running_)
  unsigned long next_order_ = 0;
  unsigned long running_ = 0;  // the task being stepped, 0 between steps
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
