// lab::event_loop: many tasks on one thread, each running until it waits
// (asyncio's event loop; the round-robin scheduler of the coroutines lesson
// grown up).
//
//   lab::event_loop loop;
//   auto a = loop.spawn(fetch("a"), "fetch a");     // runs when the loop runs
//   auto b = loop.spawn(fetch("b"), "fetch b");
//   loop.run();                                     // until every task has ended
//   std::string page = a.get();                     // its result, or its exception
//
// Inside a task, these wait without blocking the thread; every one of them
// is a point where the task may be switched away from, and none other is:
//   co_await lab::yield();            // let every other ready task run first
//   co_await lab::sleep(50ms);        // a timer; the loop sleeps if nobody is ready
//   co_await lab::readable(fd);       // epoll says fd has data (or the peer hung up)
//   co_await lab::writable(fd);       // epoll says fd has room
//   co_await handle;                  // another spawned task ended: its result
//   co_await lab::timeout(1s, work()) // work(), cancelled if it takes longer
//
// The contract, each point a test in tests/runtime/event_loop_test.cpp:
// - Round robin: ready tasks run in the order they became ready; a task that
//   yields goes to the back of the line.
// - No busy waiting: when no task is ready, the loop waits in epoll_wait
//   until the next timer or descriptor (stats().waits counts those waits).
// - Sleepers wake in deadline order; two with the same deadline in the
//   order they went to sleep. With loop_options::virtual_clock the clock
//   jumps to the next deadline instead of waiting, for exact tests.
// - An exception that escapes a spawned task is kept for its get() (and
//   for whoever awaits its handle); the other tasks go on.
// - cancel() makes lab::cancelled come out of the task's current wait, or
//   out of its next one if it is running: it can clean up (even await) and
//   then end. A cancelled task's get() throws lab::cancelled.
// - The watchdog: a task that keeps the thread longer than
//   loop_options::stall_warning between two waits (a blocking call, a long
//   computation) is reported with its name and how long (on_stall).
// - Callbacks share the loop with tasks: call_soon, call_later,
//   on_readable/on_writable run plain functions (continuation-passing style).
//
// One loop per thread; a loop is used only from the thread that runs it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <lab/net/epoll_set.hpp>
#include <lab/task.hpp>

namespace lab {

class event_loop;

// Thrown inside a task at the wait where it learns it was cancelled, and by
// a cancelled task's get().
class cancelled : public std::runtime_error {
 public:
  cancelled() : std::runtime_error("the task was cancelled") {}
};

// Thrown by lab::timeout when the work did not finish in time.
class timed_out : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by run() when tasks remain but nothing can ever wake them (each
// waits for another task of the cycle): the names say which.
class loop_stuck : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct stall {
  std::string task;  // "task 'NAME'", or "a callback"
  std::chrono::milliseconds duration;
  bool in_callback = false;  // a callback (call_soon, a timer, a descriptor's), not a task
};

struct loop_options {
  bool virtual_clock = false;
  // asyncio's slow-callback warning defaults to 100 ms too.
  std::chrono::milliseconds stall_warning{100};
  // Called for each stall; by default a line on stderr.
  std::function<void(const stall&)> on_stall = {};
};

struct loop_stats {
  std::uint64_t resumes = 0;  // task steps and callbacks run
  std::uint64_t waits = 0;    // times the loop slept in epoll_wait for more than nothing
  std::uint64_t rounds = 0;   // passes of the loop: few when tasks wait, many when it spins
  std::vector<stall> stalls;
};

namespace detail {

// What the loop knows of one spawned task. Shared by its handles and the
// loop; lives until the last of them lets go.
struct task_state {
  std::string name;
  std::uint64_t number = 0;  // in the order spawned
  event_loop* loop = nullptr;
  std::coroutine_handle<> root;  // its frame, until it ends (the loop owns it)
  // The task keeps itself alive from spawn to its end, whoever else holds
  // it: wake-ups, timers and waits copy this pointer without a lookup.
  std::shared_ptr<task_state> self;
  bool done = false;
  bool cancel_requested = false;
  bool cancel_delivered = false;
  std::exception_ptr error;
  // The wait the task is suspended in: which frame to resume, and a number
  // that changes at every wait, so that a wake-up meant for an older wait
  // (a timer of a wait that cancel() ended early) is recognised and dropped.
  std::coroutine_handle<> waiting_frame;
  std::uint64_t wait_id = 0;
  bool in_wait = false;
  int waiting_fd = -1;  // >= 0 while in readable()/writable()
  bool waiting_to_write = false;
  // Tasks awaiting its end, each with the wait_id of that wait.
  std::vector<std::pair<task_state*, std::uint64_t>> joiners;

  virtual ~task_state() = default;
  // Throws lab::cancelled when the task was cancelled and has not been told
  // yet. Called when the task comes back from a wait.
  void deliver_cancellation();
};

template <typename T>
struct typed_task_state : task_state {
  std::optional<T> value;
};
template <>
struct typed_task_state<void> : task_state {};

// The coroutine the loop runs for each spawned task: it awaits the task's
// body and records how it ended. It frees its own frame at its end.
struct root_coroutine {
  struct promise_type {
    root_coroutine get_return_object() {
      return {std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }  // run_root catches all
  };
  std::coroutine_handle<promise_type> frame;
};

}  // namespace detail

// A spawned task, seen from outside: join it (co_await), read its result
// (get), cancel it. Copies share the same task.
template <typename T>
class join_handle {
 public:
  const std::string& name() const { return state_->name; }
  bool done() const { return state_->done; }

  // Asks the task to stop (see the file's comment). Nothing if it has ended.
  void cancel();

  // The task's result; rethrows its exception (lab::cancelled when it was
  // cancelled). Precondition: done().
  T get() const {
    if (!state_->done) throw std::logic_error("get() on task '" + state_->name + "' before it ended");
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return *state_->value;
  }

  // co_await handle: waits for the task to end, then get().
  struct awaiter {
    std::shared_ptr<detail::typed_task_state<T>> state;
    detail::task_state* self = nullptr;  // the awaiting task
    bool await_ready() const noexcept { return state->done; }
    void await_suspend(std::coroutine_handle<> frame);
    T await_resume() {
      if (self != nullptr) self->deliver_cancellation();
      return join_handle{state}.get();
    }
  };
  awaiter operator co_await() const { return awaiter{state_}; }

  explicit join_handle(std::shared_ptr<detail::typed_task_state<T>> state)
      : state_(std::move(state)) {}

 private:
  std::shared_ptr<detail::typed_task_state<T>> state_;
};

class event_loop {
 public:
  using clock = std::chrono::steady_clock;
  using timer_id = std::uint64_t;

  explicit event_loop(loop_options options = {});
  ~event_loop();  // frees the frames of tasks that have not ended
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Hands `body` to the loop; it starts when the loop runs, after the tasks
  // already ready. `name` appears in stall warnings and loop_stuck.
  template <typename T>
  join_handle<T> spawn(task<T> body, std::string name = "task");

  // Runs until every task has ended and no callback or timer is left.
  // Throws loop_stuck if tasks remain that nothing can wake.
  void run();
  // The same, but returns as soon as `done()` is true (asked after each
  // round): for a caller outside the loop that waits for one thing while
  // other work (a server, a sleeper) would keep the loop going.
  void run_until(const std::function<bool()>& done);

  // spawn(body), run(), and its result.
  template <typename T>
  T run_until_complete(task<T> body, std::string name = "main");

  // The loop's time: the real steady clock, or the virtual one.
  clock::time_point now() const;

  // Callbacks (continuation-passing style), run on the loop like tasks.
  void call_soon(std::function<void()> callback);
  // call_soon for a callback that watches its own parts for stalls (the
  // green hub's round, which runs many greenlets and times each one): the
  // loop does not time it as a whole.
  void call_soon_self_timed(std::function<void()> callback);
  // True when the loop has nothing to do besides the callback running now:
  // no other callback or task ready, no timer, no descriptor watched. Then
  // a callback that could go on need not come back through the loop first.
  bool nothing_else_to_do() const { return ready_.empty() && timers_.empty() && fds_.empty(); }
  timer_id call_later(clock::duration delay, std::function<void()> callback);
  void cancel_timer(timer_id id);
  // One-shot: runs `callback` once `fd` is readable (writable).
  void on_readable(int fd, std::function<void()> callback);
  void on_writable(int fd, std::function<void()> callback);
  // Drops the callback waiting for `fd` to be readable (writable), if any.
  void forget_fd(int fd, bool write);

  const loop_stats& stats() const { return stats_; }

  // The loop running on this thread, and the task it is running (nullptr
  // in a callback). For the awaitables below.
  static event_loop& current();
  detail::task_state* running_task() const { return running_; }

  // For the awaitables: park the running task in a wait; wake it later.
  // wait_id: what the task's wait_id is for this wait.
  std::uint64_t park(std::coroutine_handle<> frame);
  void wake(detail::task_state* task, std::uint64_t wait_id);
  void add_timer(clock::time_point deadline, detail::task_state* task, std::uint64_t wait_id);
  void wait_fd(int fd, bool write, detail::task_state* task, std::uint64_t wait_id);
  void cancel_task(detail::task_state* task);
  // Called by a task's root coroutine as it ends: wakes its joiners.
  void task_finished(detail::task_state* task);

 private:
  struct ready_item {
    std::shared_ptr<detail::task_state> task;  // or null: a callback
    std::uint64_t wait_id = 0;
    std::function<void()> callback;
    bool timed = true;  // watched for stalls (not a call_soon_self_timed one)
  };
  struct timer {
    clock::time_point deadline;
    std::uint64_t sequence;  // equal deadlines: first come, first served
    std::shared_ptr<detail::task_state> task;
    std::uint64_t wait_id;
    std::function<void()> callback;
    bool operator>(const timer& other) const {
      return deadline != other.deadline ? deadline > other.deadline : sequence > other.sequence;
    }
  };
  struct fd_waiters {
    ready_item reader, writer;
    bool has_reader = false, has_writer = false;
    std::uint32_t registered = 0;  // the events epoll watches for this fd
  };

  void start_task(std::shared_ptr<detail::task_state> state, detail::root_coroutine root);
  void run_item(ready_item& item);
  void update_fd(int fd);
  void watch_or_undo(int fd, bool write);
  void add_fd_callback(int fd, bool write, std::function<void()> callback);
  void drop_fd_wait(int fd, bool write);
  void fire_due_timers();
  std::string stuck_names() const;

  loop_options options_;
  loop_stats stats_;
  std::deque<ready_item> ready_;
  std::priority_queue<timer, std::vector<timer>, std::greater<>> timers_;
  std::unordered_set<timer_id> pending_callbacks_;  // callback timers neither fired nor cancelled
  std::uint64_t next_sequence_ = 0;
  net::epoll_set poller_;
  std::unordered_map<int, fd_waiters> fds_;
  std::unordered_set<detail::task_state*> live_;  // spawned, not ended (each keeps itself alive)
  detail::task_state* running_ = nullptr;
  clock::time_point virtual_now_{};
  event_loop* previous_ = nullptr;  // the thread's loop before this one
};

// ---- awaitables ----------------------------------------------------------

namespace detail {
// The common part of every wait: park the task, and on the way back tell it
// if it was cancelled meanwhile.
struct wait_base {
  event_loop* loop = nullptr;
  task_state* task = nullptr;
  std::uint64_t wait_id = 0;
  bool await_ready() const noexcept { return false; }
  void park(std::coroutine_handle<> frame);
  void await_resume() const {
    if (task != nullptr) task->deliver_cancellation();
  }
};
}  // namespace detail

// co_await lab::yield(): to the back of the line of ready tasks.
struct yield_awaiter : detail::wait_base {
  void await_suspend(std::coroutine_handle<> frame);
};
inline yield_awaiter yield() { return {}; }

// co_await lab::sleep(d): wakes no earlier than d from now (loop time).
struct sleep_awaiter : detail::wait_base {
  event_loop::clock::duration delay;
  void await_suspend(std::coroutine_handle<> frame);
};
inline sleep_awaiter sleep(event_loop::clock::duration delay) {
  sleep_awaiter a;
  a.delay = delay;
  return a;
}

// co_await lab::readable(fd) / writable(fd): epoll reports fd ready (or an
// error or hang-up on it, which the next read or write will then report).
struct fd_awaiter : detail::wait_base {
  int fd = -1;
  bool write = false;
  void await_suspend(std::coroutine_handle<> frame);
};
inline fd_awaiter readable(int fd) {
  fd_awaiter a;
  a.fd = fd;
  return a;
}
inline fd_awaiter writable(int fd) {
  fd_awaiter a;
  a.fd = fd;
  a.write = true;
  return a;
}

// co_await lab::timeout(d, work()): work()'s result, or lab::timed_out if it
// had not ended after d. work() runs as a task of its own (named `name`),
// cancelled at the deadline; timeout() returns once it has ended, so its
// clean-up has run.
template <typename T>
task<T> timeout(event_loop::clock::duration limit, task<T> work, std::string name = "timed work");

// ---- template definitions ------------------------------------------------

namespace detail {
// timed_out's message: "NAME did not finish within N ms and was cancelled".
std::string timeout_message(const std::string& name, event_loop::clock::duration limit);

template <typename T>
root_coroutine run_root(std::shared_ptr<typed_task_state<T>> state, task<T> body) {
  try {
    if constexpr (std::is_void_v<T>)
      co_await std::move(body);
    else
      state->value.emplace(co_await std::move(body));
  } catch (...) {
    state->error = std::current_exception();
  }
  state->loop->task_finished(state.get());
}
}  // namespace detail

template <typename T>
join_handle<T> event_loop::spawn(task<T> body, std::string name) {
  auto state = std::make_shared<detail::typed_task_state<T>>();
  state->name = std::move(name);
  state->loop = this;
  start_task(state, detail::run_root<T>(state, std::move(body)));
  return join_handle<T>{state};
}

template <typename T>
T event_loop::run_until_complete(task<T> body, std::string name) {
  auto handle = spawn(std::move(body), std::move(name));
  run();
  return handle.get();
}

template <typename T>
void join_handle<T>::cancel() {
  if (!state_->done) state_->loop->cancel_task(state_.get());
}

template <typename T>
void join_handle<T>::awaiter::await_suspend(std::coroutine_handle<> frame) {
  event_loop& loop = *state->loop;
  self = loop.running_task();
  if (self == nullptr) throw std::logic_error("co_await on a task's handle outside a task");
  state->joiners.emplace_back(self, loop.park(frame));
}

template <typename T>
task<T> timeout(event_loop::clock::duration limit, task<T> work, std::string name) {
  event_loop& loop = event_loop::current();
  auto handle = loop.spawn(std::move(work), name);
  auto expired = std::make_shared<bool>(false);
  const auto timer = loop.call_later(limit, [handle, expired]() mutable {
    *expired = true;
    handle.cancel();
  });
  // Whatever happens, the timer goes and the work does not outlive us.
  struct cleanup {
    event_loop& loop;
    event_loop::timer_id timer;
    join_handle<T> handle;
    ~cleanup() {
      loop.cancel_timer(timer);
      handle.cancel();  // nothing if it ended; if we were cancelled, so is it
    }
  } on_exit{loop, timer, handle};
  try {
    co_return co_await handle;
  } catch (const cancelled&) {
    if (!*expired) throw;  // we were cancelled ourselves
  }
  throw timed_out(detail::timeout_message(name, limit));
}

}  // namespace lab
