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
// - Memory: one allocation per task, its frame with a small record in
//   front (lab/task_record.hpp): how it ended and, once spawned, what its
//   loop knows of it. A task awaited as a sub-call carries the record too,
//   unused but for its result.
//
// Single-threaded: a task runs on the thread of its loop.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <utility>

#include <lab/task_record.hpp>

namespace lab {

namespace detail {

// return_value for a task<T>, return_void for a task<void> (a promise may
// have only one of the two). The value goes to the task's record.
template <typename Promise, typename T>
struct task_return {
  template <typename U>
  void return_value(U&& result) {
    static_cast<Promise*>(this)->record().result.value.emplace(std::forward<U>(result));
  }
};
template <typename Promise>
struct task_return<Promise, void> {
  void return_void() noexcept {}
};

}  // namespace detail

template <typename T = void>
class task {
 public:
  struct promise_type : detail::task_return<promise_type, T> {
    using record_type = detail::typed_task_record<T>;
    using handle = std::coroutine_handle<promise_type>;

    // The frame comes with the task's record in front of it, in one block
    // (lab/task_record.hpp says why).
    static void* operator new(std::size_t frame_size) { return record_type::allocate(frame_size); }
    static void operator delete(void* frame) noexcept { record_type::frame_freed(frame); }

    // Who resumes when this task ends: the task that awaited it.
    std::coroutine_handle<> continuation = std::noop_coroutine();

    record_type& record() noexcept { return record_type::of(handle::from_promise(*this)); }

    task get_return_object() {
      record_type::check_layout(handle::from_promise(*this));
      return task{handle::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }  // lazy

    // At the end:
    // - a spawned task tells its loop, which wakes the tasks awaiting its
    //   handle and, once this step is over, frees the frame (its record
    //   stays for the handles);
    // - a task whose awaiting task's co_await is still on the stack (it
    //   never waited) returns to it, and that task goes on without
    //   suspending;
    // - otherwise it was resumed by the loop after a wait: it goes straight
    //   to the awaiting task (symmetric transfer).
    struct final_awaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(handle done) noexcept {
        record_type& record = done.promise().record();
        record.done = true;
        if (record.loop != nullptr) {
          detail::finish_spawned(record);  // the loop frees the frame after this step
          return std::noop_coroutine();
        }
        if (record.running_inline) return std::noop_coroutine();
        return done.promise().continuation;
      }
      void await_resume() const noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { record().error = std::current_exception(); }
  };
  using handle = typename promise_type::handle;

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
    bool await_ready() const noexcept { return !frame || frame.promise().record().done; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      promise_type& promise = frame.promise();
      auto& record = promise.record();
      promise.continuation = awaiting;
      record.running_inline = true;
      frame.resume();  // until it ends or waits
      record.running_inline = false;
      return !record.done;
    }
    T await_resume() { return frame.promise().record().take(); }
  };
  awaiter operator co_await() && noexcept { return awaiter{frame_}; }

  // Gives up the frame: the caller owns it now (event_loop::spawn).
  handle release() noexcept { return std::exchange(frame_, {}); }

 private:
  explicit task(handle frame) : frame_(frame) {}
  handle frame_{};
};

}  // namespace lab
