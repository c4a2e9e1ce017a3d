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
// - Memory: a spawned task is one allocation, its frame with a record in
//   front (lab/task_record.hpp), plus a 24-byte entry in the timer heap
//   while it sleeps (coro.switch measures the bytes per sleeping task).
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

// A task awaiting another's end (join_handle's awaiter, in the awaiting
// task's frame): a link in the line of the awaited task's record. It leaves
// the line when it goes, however it goes (woken, cancelled, or destroyed
// with its frame), so the line never points at a frame that is gone.
struct join_waiter {
  task_record* joined = nullptr;  // the task awaited
  task_record* waiter = nullptr;  // the awaiting task
  std::uint64_t wait_id = 0;      // the awaiting task's wait
  join_waiter* next = nullptr;
  // Joins the line of `joined`, parking the running task. Precondition:
  // joined, not done, belongs to the loop running this task.
  void join(std::coroutine_handle<> frame);
  void leave() noexcept;
};

}  // namespace detail

// A spawned task, seen from outside: join it (co_await), read its result
// (get), cancel it. Copies share the same task (and keep its record, not
// its frame: that goes when the task ends). Like the loop, a handle is used
// on the loop's thread only: its copies count references without atomics.
template <typename T>
class join_handle {
 public:
  const std::string& name() const { return record_->name; }
  bool done() const { return record_->done; }

  // Asks the task to stop (see the file's comment). Nothing if it has
  // ended, or if its loop is gone.
  void cancel();

  // The task's result; rethrows its exception (lab::cancelled when it was
  // cancelled). Precondition: done().
  T get() const {
    if (!record_->done)
      throw std::logic_error("get() on task '" + record_->name + "' before it ended");
    if (record_->error) std::rethrow_exception(record_->error);
    if constexpr (!std::is_void_v<T>) return *typed().result.value;
  }

  // co_await handle: waits for the task to end, then get().
  struct awaiter : detail::join_waiter {
    detail::task_ref awaited;  // kept while we await it
    explicit awaiter(detail::task_ref task) : awaited(std::move(task)) { joined = awaited.get(); }
    awaiter(const awaiter&) = delete;
    awaiter& operator=(const awaiter&) = delete;
    ~awaiter() { leave(); }
    bool await_ready() const noexcept { return awaited->done; }
    void await_suspend(std::coroutine_handle<> frame) { join(frame); }
    T await_resume() {
      leave();
      if (waiter != nullptr) waiter->deliver_cancellation();
      return join_handle{awaited}.get();
    }
  };
  awaiter operator co_await() const { return awaiter{record_}; }

  // Takes a reference to `record` (event_loop::spawn).
  explicit join_handle(detail::task_ref record) : record_(std::move(record)) {}

 private:
  detail::typed_task_record<T>& typed() const {
    return static_cast<detail::typed_task_record<T>&>(*record_);
  }
  detail::task_ref record_;
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
  // The watchdogs' clock (the loop's, and the green hub's): the kernel's
  // coarse monotonic clock, a few ns to read (against tens for the precise
  // one) and precise to a few ms, plenty for a warning at 100 ms. Read at
  // every task step and every greenlet switch, it must be cheap.
  static clock::duration coarse_now();

  // Callbacks (continuation-passing style), run on the loop like tasks.
  void call_soon(std::function<void()> callback);
  // call_soon for a callback that watches its own parts for stalls (the
  // green hub's round, which runs many greenlets and times each one): the
  // loop does not time it as a whole.
  void call_soon_self_timed(std::function<void()> callback);
  // True when the loop has nothing to do besides the callback running now:
  // no other callback or task ready, no timer, no descriptor watched. Then
  // a callback that could go on need not come back through the loop first.
  bool nothing_else_to_do() const {
    return ready_.empty() && task_timers_.empty() && callback_timers_.empty() && fds_.empty();
  }
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
  detail::task_record* running_task() const { return running_; }

  // For the awaitables: park the running task in a wait (returns the
  // wait's id, which is also the task's wait_id until it is woken); wake
  // it later with that id. A wake-up for a wait that is over does nothing.
  std::uint64_t park(std::coroutine_handle<> frame);
  void wake(detail::task_record* task, std::uint64_t wait_id);
  // Wakes `task` from its current wait at `deadline`.
  void add_timer(clock::time_point deadline, detail::task_record* task);
  void wait_fd(int fd, bool write, detail::task_record* task, std::uint64_t wait_id);
  void cancel_task(detail::task_record* task);
  // Called by a spawned task's frame as it ends: wakes its joiners.
  void task_finished(detail::task_record& task);

 private:
  struct ready_item {
    detail::task_ref task;  // or null: a callback
    std::uint64_t wait_id = 0;
    std::function<void()> callback;
    bool timed = true;  // watched for stalls (not a call_soon_self_timed one)
  };
  // A task's sleep: 24 bytes, as many sleeping tasks may be waiting (the
  // wait's id orders it too: ids come from the counter of sequences).
  struct task_timer {
    clock::time_point deadline;
    std::uint64_t wait_id;  // equal deadlines: first come, first served
    detail::task_ref task;
    bool operator>(const task_timer& other) const {
      return deadline != other.deadline ? deadline > other.deadline : wait_id > other.wait_id;
    }
  };
  // A call_later: its sequence is its timer_id.
  struct callback_timer {
    clock::time_point deadline;
    std::uint64_t sequence;  // equal deadlines: first come, first served
    std::function<void()> callback;
    bool operator>(const callback_timer& other) const {
      return deadline != other.deadline ? deadline > other.deadline : sequence > other.sequence;
    }
  };
  template <typename Timer>
  using timer_heap = std::priority_queue<Timer, std::vector<Timer>, std::greater<>>;
  struct fd_waiters {
    ready_item reader, writer;
    bool has_reader = false, has_writer = false;
    std::uint32_t registered = 0;  // the events epoll watches for this fd
  };

  void start_task(detail::task_record& task, std::string name);
  void run_item(ready_item& item);
  void update_fd(int fd);
  void watch_or_undo(int fd, bool write);
  void add_fd_callback(int fd, bool write, std::function<void()> callback);
  void drop_fd_wait(int fd, bool write);
  void drop_stale_timers();
  void fire_due_timers();
  std::optional<clock::time_point> next_deadline() const;
  void link_live(detail::task_record& task);
  void unlink_live(detail::task_record& task);
  std::string stuck_names() const;

  loop_options options_;
  loop_stats stats_;
  std::deque<ready_item> ready_;
  // Timers in two heaps: a task's is small, a callback's holds a function.
  // Both draw their sequence from next_sequence_, so that together they
  // fire in (deadline, sequence) order.
  timer_heap<task_timer> task_timers_;
  timer_heap<callback_timer> callback_timers_;
  std::unordered_set<timer_id> pending_callbacks_;  // callback timers neither fired nor cancelled
  std::uint64_t next_sequence_ = 0;
  net::epoll_set poller_;
  std::unordered_map<int, fd_waiters> fds_;
  // Spawned tasks that have not ended, in the order spawned: a list through
  // their records (task_record::previous_live, next_live).
  detail::task_record* first_live_ = nullptr;
  detail::task_record* last_live_ = nullptr;
  detail::task_record* running_ = nullptr;
  clock::time_point virtual_now_{};
};

// ---- awaitables ----------------------------------------------------------

namespace detail {
// The common part of every wait: park the task, and on the way back tell it
// if it was cancelled meanwhile. Small: it is in the frame of every waiting
// task.
struct wait_base {
  task_record* task = nullptr;
  bool await_ready() const noexcept { return false; }
  // Parks the running task of the running loop; returns that loop.
  event_loop& park(std::coroutine_handle<> frame);
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
}  // namespace detail

// The body's own frame is the task: no coroutine runs it on the loop's
// behalf. Its record (in front of the frame) takes the name; the loop holds
// the frame until the body ends (task.hpp's final_awaiter).
template <typename T>
join_handle<T> event_loop::spawn(task<T> body, std::string name) {
  const auto frame = body.release();
  if (!frame) throw std::logic_error("spawn of an empty task (one moved from)");
  auto& record = detail::typed_task_record<T>::of(frame);
  start_task(record, std::move(name));
  return join_handle<T>{detail::task_ref(&record)};
}

template <typename T>
T event_loop::run_until_complete(task<T> body, std::string name) {
  auto handle = spawn(std::move(body), std::move(name));
  run();
  return handle.get();
}

template <typename T>
void join_handle<T>::cancel() {
  if (!record_->done && record_->loop != nullptr) record_->loop->cancel_task(record_.get());
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
