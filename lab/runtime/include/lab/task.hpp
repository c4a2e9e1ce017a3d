// lab::task<T>: a coroutine that computes a T, possibly waiting on the way
// (Python's `async def`). The building block of the event loop
// (lab/event_loop.hpp).
//
//   lab::task<int> answer() {
//     co_await lab::sleep(100ms);     // waits without blocking the thread
//     co_return 42;
//   }
//   lab::task<> main_task() {
//     int a = co_await answer();      // runs answer() to its end, then goes on
//   }
//
// What a student can rely on:
// - Lazy: calling answer() runs none of its body. `co_await answer()` runs
//   it as a sub-call of the awaiting task: the awaiting task goes on when
//   answer() has returned, with its value, or with its exception thrown at
//   the co_await.
// - To run tasks side by side, hand them to the loop instead:
//   `loop.spawn(answer(), "answer")` (event_loop.hpp).
// - A task destroyed before its end (its loop was destroyed first, or it
//   was never awaited) frees its frame and everything it was suspended with.
//
// Single-threaded: a task runs on the thread of its loop.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace lab {

namespace detail {

// Where a finished task keeps what it produced until its awaiter takes it.
template <typename T>
struct task_result {
  std::optional<T> value;
  std::exception_ptr error;
  template <typename U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct task_result<void> {
  std::exception_ptr error;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <typename T = void>
class task {
 public:
  struct promise_type : detail::task_result<T> {
    // Who resumes when this task ends: the task that awaited it.
    std::coroutine_handle<> continuation = std::noop_coroutine();
    // True while the awaiting task's co_await is still running this task
    // (awaiter::await_suspend below), before it has waited for anything.
    bool running_inline = false;

    task get_return_object() { return task{handle::from_promise(*this)}; }
    std::suspend_always initial_suspend() noexcept { return {}; }  // lazy

    // At the end: if the awaiting task's co_await is still on the stack
    // (this task never waited), return to it, and it goes on without
    // suspending. Otherwise this task was resumed by the loop after a wait:
    // go straight to the awaiting task (symmetric transfer).
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> done) noexcept {
        promise_type& promise = done.promise();
        if (promise.running_inline) return std::noop_coroutine();
        return promise.continuation;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { this->error = std::current_exception(); }
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

  // co_await a task: run it now, on behalf of the awaiting task, and go on
  // with its result when it ends.
  //
  // Why not simply return `frame` from await_suspend (symmetric transfer)?
  // That needs the compiler to turn each resume into a tail call, which it
  // does not promise: without optimisation, or under ThreadSanitizer (whose
  // hooks at every function's entry and exit forbid it), a loop that
  // co_awaits a task that ends at once, over and over, stacks a frame per
  // turn until the stack is gone. So the task is resumed here, as a call:
  // if it ends without waiting, the awaiting task goes on at once (false)
  // and the stack is as it was; if it waited, the awaiting task suspends
  // (true), and the task resumes it when it ends.
  struct awaiter {
    handle frame;
    bool await_ready() const noexcept { return !frame || frame.done(); }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      promise_type& promise = frame.promise();
      promise.continuation = awaiting;
      promise.running_inline = true;
      frame.resume();  // until it ends or waits
      promise.running_inline = false;
      return !frame.done();
    }
    T await_resume() { return frame.promise().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{frame_}; }

 private:
  explicit task(handle frame) : frame_(frame) {}
  handle frame_{};
};

}  // namespace lab
