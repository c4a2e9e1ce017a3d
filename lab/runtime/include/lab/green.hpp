// lab::green: green threads (gevent's greenlets) on one OS thread.
//
// Each greenlet is a plain function running on a stack of its own. When it
// waits (lab::green::sleep, a descriptor, an event, another greenlet), it
// switches to the next greenlet that can go on, or to the hub, which
// watches the timers and descriptors (gevent's hub does both): the waits
// can be deep inside ordinary calls, which generators and C++20 coroutines
// cannot do (they only suspend in their own body).
//
//   auto a = lab::green::spawn([] { lab::green::sleep(100ms); return 1; });
//   auto b = lab::green::spawn([] { lab::green::sleep(100ms); return 2; });
//   int sum = a.get() + b.get();      // about 100 ms in all, not 200
//
// The contract (tests/runtime/green_test.cpp):
// - One thread. A greenlet runs until it waits; nothing preempts it. So the
//   code between two waits is atomic with respect to the other greenlets.
// - get() / join() from a greenlet waits for the other one; from outside
//   any greenlet (main) it runs the hub until that greenlet has ended.
//   get() returns the result or rethrows the greenlet's exception.
// - kill() raises lab::green::killed inside the greenlet at its current
//   wait (or at its next one, or before it starts): its destructors run.
// - timeout t(d): a scope; if it is still open after d, the greenlet that
//   opened it gets lab::green::timed_out at its wait (gevent.Timeout).
// - Round robin: greenlets go on in the order they became able to; yield()
//   goes to the back of that line.
// - No busy waiting: the hub is a lab::event_loop (epoll and a timer heap).
// - Stacks come from Boost.Context, each with a guard page below it: a
//   stack overflow is a crash, never a silent overwrite. Switches are
//   announced to AddressSanitizer and ThreadSanitizer when they are on.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace lab::green {

// Raised inside a greenlet by kill() (gevent's GreenletExit); get() on a
// killed greenlet throws it too.
class killed : public std::runtime_error {
 public:
  killed() : std::runtime_error("the greenlet was killed") {}
};

// Raised inside a greenlet whose timeout scope expired.
class timed_out : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised by get()/join() from main when greenlets remain that nothing can wake.
class deadlock : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using duration = std::chrono::steady_clock::duration;

namespace detail {

struct greenlet_state;
using state_ptr = std::shared_ptr<greenlet_state>;

// What every greenlet is, whatever it returns.
struct greenlet_state : std::enable_shared_from_this<greenlet_state> {
  std::string name;
  std::function<void()> body;       // runs the function and stores its result
  bool started = false, done = false;
  std::exception_ptr error;         // how it ended, if by an exception
  std::exception_ptr pending;       // to raise at its next wait (kill, timeout)
  std::uint64_t wait_id = 0;        // changes at every wait (see green.cpp)
  bool waiting = false;
  std::function<void()> undo_wait;  // takes its wake-up back (kill during a wait)
  std::vector<std::pair<state_ptr, std::uint64_t>> joiners;
  struct machine;                   // the stack and context (green.cpp)
  std::unique_ptr<machine> context;
  greenlet_state();
  ~greenlet_state();
};

template <typename T>
struct typed_state : greenlet_state {
  std::optional<T> value;
};
template <>
struct typed_state<void> : greenlet_state {};

state_ptr start(state_ptr state);          // hands it to the hub
void join(const state_ptr& state);         // waits until it has ended
void kill(const state_ptr& state, std::exception_ptr reason);
state_ptr current();                       // nullptr outside a greenlet
bool in_greenlet() noexcept;               // cheap: is a greenlet running on this thread?

// Parks the current greenlet until wake(g, id) with the id park returned;
// `undo` takes the wake-up back if the wait ends another way. Rethrows what
// kill() or a timeout left pending. Precondition: inside a greenlet.
std::uint64_t prepare_wait();
void wait(std::function<void()> undo);
void wake(const state_ptr& g, std::uint64_t wait_id);

}  // namespace detail

// A spawned greenlet, seen from outside. Copies share it.
template <typename T>
class greenlet {
 public:
  explicit greenlet(std::shared_ptr<detail::typed_state<T>> state) : state_(std::move(state)) {}
  const std::string& name() const { return state_->name; }
  bool done() const { return state_->done; }
  void join() const { detail::join(state_); }
  T get() const {
    join();
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return *state_->value;
  }
  void kill() const { detail::kill(state_, std::make_exception_ptr(killed{})); }

 private:
  std::shared_ptr<detail::typed_state<T>> state_;
};

// Starts fn(args...) as a greenlet; it runs once the current greenlet (or
// main) waits.
template <typename Fn, typename... Args>
auto spawn_named(std::string name, Fn fn, Args... args) {
  using result = std::invoke_result_t<Fn&, Args&...>;
  auto state = std::make_shared<detail::typed_state<result>>();
  state->name = std::move(name);
  state->body = [raw = state.get(), fn = std::move(fn), ... args = std::move(args)]() mutable {
    if constexpr (std::is_void_v<result>)
      std::invoke(fn, args...);
    else
      raw->value.emplace(std::invoke(fn, args...));
  };
  detail::start(state);
  return greenlet<result>{state};
}
template <typename Fn, typename... Args>
auto spawn(Fn fn, Args... args) {
  return spawn_named("greenlet", std::move(fn), std::move(args)...);
}

// Waits, letting the other greenlets run (from main: runs the hub for d).
void sleep(duration d);
// Lets every other ready greenlet run first.
void yield();
// Waits until `fd` is readable (writable), or has an error or hang-up.
void wait_readable(int fd);
void wait_writable(int fd);
// One descriptor of a wait on several, and what it waits for.
struct fd_wait {
  int fd = -1;
  bool write = false;  // writable (else readable)
};
// Waits until one of `fds` is ready for what it waits for (or has an error
// or hang-up), or until `limit` has passed, if there is one: whichever
// comes first. What the patched poll() does inside a greenlet. Throws
// std::system_error for a descriptor the hub cannot watch (a regular file).
void wait_any(const std::vector<fd_wait>& fds, std::optional<duration> limit);
// Runs the hub until every greenlet has ended (gevent.joinall of all).
void run();

// What the hub's watchdog saw on this thread: each time one greenlet kept
// the thread for 100 ms or more without waiting (a blocking call), with
// its name. The hub also says so on stderr as it happens.
struct stall_seen {
  std::string greenlet;
  std::chrono::milliseconds duration;
};
std::vector<stall_seen> stalls();

// A scope after whose deadline the greenlet that opened it gets timed_out
// at its wait. Close it (leave the scope) before the deadline and nothing
// happens. Only inside a greenlet.
class timeout {
 public:
  explicit timeout(duration limit, std::string what = "the work");
  ~timeout();
  timeout(const timeout&) = delete;
  timeout& operator=(const timeout&) = delete;

 private:
  std::shared_ptr<bool> open_;
  std::uint64_t timer_ = 0;
};

// A flag greenlets can wait for.
class event {
 public:
  void set();
  void clear() { set_ = false; }
  bool is_set() const { return set_; }
  void wait();  // returns at once if set

 private:
  bool set_ = false;
  std::vector<std::pair<detail::state_ptr, std::uint64_t>> waiters_;
};

// A value delivered later, once: get() waits for it (gevent's AsyncResult).
template <typename T>
class async_result {
 public:
  void set(T value) {
    value_ = std::move(value);
    ready_.set();
  }
  void set_exception(std::exception_ptr error) {
    error_ = std::move(error);
    ready_.set();
  }
  bool ready() const { return ready_.is_set(); }
  T get() {
    ready_.wait();
    if (error_) std::rethrow_exception(error_);
    return *value_;
  }

 private:
  event ready_;
  std::optional<T> value_;
  std::exception_ptr error_;
};

// A first-in first-out queue; get() waits while it is empty.
template <typename T>
class queue {
 public:
  void put(T item) {
    items_.push_back(std::move(item));
    not_empty_.set();
  }
  T get() {
    while (items_.empty()) {
      not_empty_.clear();
      not_empty_.wait();
    }
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }
  std::size_t size() const { return items_.size(); }

 private:
  std::deque<T> items_;
  event not_empty_;
};

// At most `size` greenlets at once: spawn() waits while the pool is full.
class pool {
 public:
  explicit pool(std::size_t size) : size_(size) {}
  template <typename Fn>
  void spawn(Fn fn) {
    while (running_ >= size_) {
      room_.clear();
      room_.wait();
    }
    ++running_;
    members_.push_back(spawn_named("pool member", [this, fn = std::move(fn)]() mutable {
      struct leave {
        pool& p;
        ~leave() {
          --p.running_;
          p.room_.set();
        }
      } on_exit{*this};
      fn();
    }));
  }
  // Waits for every greenlet the pool started.
  void join() {
    for (auto& member : members_) member.join();
  }
  std::size_t running() const { return running_; }

 private:
  std::size_t size_, running_ = 0;
  event room_;
  std::vector<greenlet<void>> members_;
};

}  // namespace lab::green
