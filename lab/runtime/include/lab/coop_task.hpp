// What the scheduler exercise gives the student: a task that tells its
// scheduler what it waits for, the handle its result comes back through, and
// the clock the scheduler is to read (real, or the checks' virtual one).
//
// A task is a coroutine returning lab::coop::task. Where it would wait, it
// co_yields what it waits for, and its scheduler resumes it once that has
// happened; it ends with co_return and an int:
//
//   lab::coop::task count_down(int from) {
//     for (int i = from; i > 0; --i) co_yield lab::coop::yield_now{};  // let others run
//     co_yield lab::coop::sleep_for{std::chrono::milliseconds(50)};     // wake me in 50 ms
//     co_yield lab::coop::readable{fd};                                 // wake me when fd has data
//     co_return 42;
//   }
//
// This is lecture 004's generator-based scheduler in C++20: the tasks are
// generators of "what I wait for", and the scheduler is the loop that
// consumes them (lesson: coroutines; exercise: scheduler).
//
// Single-threaded: a task, its handle and its scheduler belong to one thread
// at a time.
#pragma once

#include <chrono>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <thread>
#include <utility>
#include <variant>

namespace lab::coop {

using clock_type = std::chrono::steady_clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;

// --- what a task can wait for ------------------------------------------------

// Nothing: "let the others have a turn, then me again".
struct yield_now {};
// Time: "wake me when `how_long` has passed" (from the moment it is yielded).
struct sleep_for {
  duration how_long;
};
// A descriptor: "wake me when `fd` can be read without blocking" (data, end
// of file or an error: poll()'s POLLIN, POLLHUP or POLLERR).
struct readable {
  int fd;
};
using wait = std::variant<yield_now, sleep_for, readable>;

// --- the task ------------------------------------------------------------------

// A coroutine that co_yields waits and co_returns an int. It owns its frame:
// destroying a task destroys the frame, running the destructors of the
// locals the body was suspended with (that is how a cancelled task cleans
// up). Move-only.
class task {
 public:
  struct promise_type {
    wait waiting_for;          // what the last co_yield asked for
    int result = 0;            // what co_return gave
    std::exception_ptr error;  // what the body threw, if it did

    task get_return_object() { return task(handle::from_promise(*this)); }
    // Lazy: making a task runs none of its body; its first step does.
    std::suspend_always initial_suspend() noexcept { return {}; }
    // Stays suspended at the end, so that done() can be asked and the task
    // object (not the body) frees the frame.
    std::suspend_always final_suspend() noexcept { return {}; }
    std::suspend_always yield_value(wait what) noexcept {
      waiting_for = what;
      return {};
    }
    void return_value(int value) noexcept { result = value; }
    // The body threw: it has ended, and the exception waits here for
    // whoever asks for the task's result.
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  using handle = std::coroutine_handle<promise_type>;

  task() = default;
  task(task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      if (frame_) frame_.destroy();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() {
    if (frame_) frame_.destroy();
  }

  // Runs the body up to its next co_yield, or to its end. Call only when
  // the task is not done(); an exception of the body does not come out of
  // here, it is kept (error()).
  void step() { frame_.resume(); }
  // The body has ended: by co_return, or by throwing (then error() is set).
  bool done() const { return frame_.done(); }
  // What the task waits for now: valid after a step() that left it not done().
  const wait& waiting_for() const { return frame_.promise().waiting_for; }
  // Once done(): the value of its co_return, or the exception it threw.
  int result() const { return frame_.promise().result; }
  std::exception_ptr error() const { return frame_.promise().error; }

 private:
  explicit task(handle frame) : frame_(frame) {}
  handle frame_;
};

// --- the handle ----------------------------------------------------------------

// get() of a task that was cancelled throws this.
class task_cancelled : public std::runtime_error {
 public:
  task_cancelled() : std::runtime_error("the task was cancelled") {}
};

// How a task ended, shared between the scheduler (which fills it in) and the
// task's handle (which reads it). Filled in once, when the task ends.
struct task_state {
  bool finished = false;   // the body ended: `result` or `error` says how
  bool cancelled = false;  // cancelled before its body ended
  int result = 0;
  std::exception_ptr error;
  unsigned long id = 0;  // for the scheduler's own use (finding the task again)
};

// What spawn() gives back: the way to a task's result. Copyable; every copy
// sees the same task.
class task_handle {
 public:
  explicit task_handle(std::shared_ptr<task_state> state) : state_(std::move(state)) {}

  // Finished or cancelled: nothing of it will run again.
  bool done() const { return state_->finished || state_->cancelled; }
  // The task's co_return value; or the exception its body threw, thrown
  // again here; or task_cancelled. Throws std::logic_error if the task has
  // not ended yet (run the scheduler first).
  int get() const {
    if (state_->cancelled) throw task_cancelled();
    if (!state_->finished) throw std::logic_error("get() of a task that has not ended yet");
    if (state_->error) std::rethrow_exception(state_->error);
    return state_->result;
  }
  const std::shared_ptr<task_state>& state() const { return state_; }

 private:
  std::shared_ptr<task_state> state_;
};

// --- the clock -------------------------------------------------------------------

// Where a scheduler gets the time from, and how it waits for a moment when
// no task can run and none waits for a descriptor. The checks pass a virtual
// clock, whose time moves only when the scheduler sleeps (so the order in
// which sleepers wake is exact); a program passes real_time().
struct time_source {
  std::function<time_point()> now;
  std::function<void(time_point)> sleep_until;
};

// The machine's steady clock, and a real sleep of this thread.
inline time_source real_time() {
  return {[] { return clock_type::now(); },
          [](time_point when) { std::this_thread::sleep_until(when); }};
}

}  // namespace lab::coop
