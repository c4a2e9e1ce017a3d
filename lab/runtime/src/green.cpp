// The hub of lab::green: one per thread. It owns a lab::event_loop and runs
// it on the thread's own stack ("main"); every switch into a greenlet is a
// callback of that loop, and a greenlet that waits registers its wake-up
// with the loop (a timer, a descriptor, an event's list) and switches back.
//
// Switching is Boost.Context's fiber: resume() saves the registers of the
// running side and restores the other's. Each switch is announced to the
// sanitizers that track stacks (AddressSanitizer) and threads
// (ThreadSanitizer), which would otherwise take a greenlet's stack for
// corrupted memory or a switch for a data race.
#include "lab/green.hpp"

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <cstdio>
#include <string>
#include <unordered_set>

#include "lab/event_loop.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define LAB_GREEN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define LAB_GREEN_TSAN 1
#endif

namespace lab::green {

namespace context = boost::context;

namespace detail {

struct greenlet_state::machine {
  context::fiber self;  // the greenlet while it is suspended (empty while it runs, or once it ended)
  context::fiber hub;   // the hub while the greenlet runs
  context::stack_context stack{};
  void* tsan_fiber = nullptr;
  void* asan_fake_stack = nullptr;
};

greenlet_state::greenlet_state() = default;
greenlet_state::~greenlet_state() = default;

namespace {

// Boost's guarded stack allocator, noting where the stack is: the
// sanitizers need its bounds at every switch.
struct recording_stack {
  context::protected_fixedsize_stack inner;
  context::stack_context* noted;
  context::stack_context allocate() {
    *noted = inner.allocate();
    return *noted;
  }
  void deallocate(context::stack_context& stack) noexcept { inner.deallocate(stack); }
};

// Whether a greenlet runs on this thread now: read by the patched blocking
// calls (green_patch.cpp) on every call, so a plain flag, and no hub is
// made for a thread that never ran a greenlet.
thread_local bool running_here = false;

// 256 KiB of address space per greenlet; only the pages it touches cost memory.
constexpr std::size_t stack_size = 256 * 1024;

class hub {
 public:
  hub()
      : loop_({.on_stall = [this](const stall& s) {
          // Greenlets run inside the loop's callbacks (switch_into): a
          // callback that stalled is the greenlet it switched into last.
          const bool a_greenlet = s.in_callback && !last_name_.empty();
          const std::string who = a_greenlet ? "greenlet '" + last_name_ + "'" : s.task;
          std::fprintf(stderr,
                       "green hub: %s kept the thread for about %lld ms without waiting (a blocking "
                       "call: every other greenlet waited)\n",
                       who.c_str(), static_cast<long long>(s.duration.count()));
          stalls_.push_back({a_greenlet ? last_name_ : s.task, s.duration});
        }}) {
#if LAB_GREEN_TSAN
    tsan_main_ = __tsan_get_current_fiber();
#endif
  }

  ~hub() {
    // Greenlets still waiting: kill them, so that they unwind through their
    // own waits (with every switch announced) and free their stacks.
    for (int round = 0; round < 3 && !live_.empty(); ++round) {
      std::vector<state_ptr> waiting;
      for (greenlet_state* g : live_) waiting.push_back(g->shared_from_this());
      for (auto& g : waiting) kill(g, std::make_exception_ptr(killed{}));
      try {
        loop_.run();
      } catch (...) {
      }
    }
  }

  static hub& here() {
    thread_local hub instance;
    return instance;
  }

  event_loop& loop() { return loop_; }
  greenlet_state* running() const { return running_; }

  void start(const state_ptr& g) {
    g->context = std::make_unique<greenlet_state::machine>();
    greenlet_state* raw = g.get();
    g->context->self = context::fiber(
        std::allocator_arg, recording_stack{context::protected_fixedsize_stack(stack_size), &g->context->stack},
        [this, raw](context::fiber&& from_hub) { return body_of(*raw, std::move(from_hub)); });
#if LAB_GREEN_TSAN
    g->context->tsan_fiber = __tsan_create_fiber(0);
#endif
    live_.insert(raw);
    loop_.call_soon([this, g] { switch_into(g); });
  }

  // Main side: run greenlet g until it waits or ends. A loop callback.
  void switch_into(const state_ptr& g) {
    if (g->done) return;
    running_ = g.get();
    running_here = true;
    last_name_ = g->name;
    auto& m = *g->context;
#if LAB_GREEN_ASAN
    void* main_fake = nullptr;
    __sanitizer_start_switch_fiber(&main_fake, static_cast<char*>(m.stack.sp) - m.stack.size, m.stack.size);
#endif
#if LAB_GREEN_TSAN
    __tsan_switch_to_fiber(m.tsan_fiber, 0);
#endif
    m.self = std::move(m.self).resume();
#if LAB_GREEN_ASAN
    __sanitizer_finish_switch_fiber(main_fake, nullptr, nullptr);
#endif
    running_ = nullptr;
    running_here = false;
    if (!m.self) finished(g);
  }

  // Greenlet side: back to the hub until something wakes us.
  void switch_out(greenlet_state& g) {
    auto& m = *g.context;
#if LAB_GREEN_ASAN
    __sanitizer_start_switch_fiber(&m.asan_fake_stack, main_bottom_, main_size_);
#endif
#if LAB_GREEN_TSAN
    __tsan_switch_to_fiber(tsan_main_, 0);
#endif
    m.hub = std::move(m.hub).resume();
#if LAB_GREEN_ASAN
    __sanitizer_finish_switch_fiber(m.asan_fake_stack, &main_bottom_, &main_size_);
#endif
  }

  // Runs the loop until nothing is left to run.
  void run_loop() {
    if (running_ != nullptr) throw std::logic_error("the hub runs only from outside the greenlets");
    loop_.run();
  }
  // Runs the hub until `g` has ended (or nothing is left to run): what main
  // does when it joins one greenlet while others (a server, sleepers) go on.
  void run_loop_until_done(const greenlet_state& g) {
    if (running_ != nullptr) throw std::logic_error("the hub runs only from outside the greenlets");
    loop_.run_until([&g] { return g.done; });
  }

  const std::vector<stall_seen>& stalls() const { return stalls_; }

  std::string waiting_names() const {
    std::string names;
    for (const greenlet_state* g : live_) names += (names.empty() ? "'" : ", '") + g->name + "'";
    return names;
  }

 private:
  // The greenlet's whole life, on its own stack.
  context::fiber body_of(greenlet_state& g, context::fiber&& from_hub) {
    g.context->hub = std::move(from_hub);
#if LAB_GREEN_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &main_bottom_, &main_size_);
#endif
    g.started = true;
    try {
      if (g.pending) std::rethrow_exception(std::exchange(g.pending, nullptr));  // killed before it ran
      g.body();
    } catch (const context::detail::forced_unwind&) {
      throw;  // Boost unwinding a fiber destroyed while suspended: let it through
    } catch (...) {
      g.error = std::current_exception();
    }
    g.body = nullptr;  // what the function captured goes now, on this stack
#if LAB_GREEN_ASAN
    __sanitizer_start_switch_fiber(nullptr, main_bottom_, main_size_);  // nullptr: this stack is done
#endif
#if LAB_GREEN_TSAN
    __tsan_switch_to_fiber(tsan_main_, 0);
#endif
    return std::move(g.context->hub);
  }

  void finished(const state_ptr& g) {
    g->done = true;
    live_.erase(g.get());
#if LAB_GREEN_TSAN
    __tsan_destroy_fiber(g->context->tsan_fiber);
#endif
    for (auto& [joiner, id] : std::exchange(g->joiners, {})) wake(joiner, id);
  }

  event_loop loop_;
  greenlet_state* running_ = nullptr;
  std::string last_name_;
  std::unordered_set<greenlet_state*> live_;
  std::vector<stall_seen> stalls_;
  const void* main_bottom_ = nullptr;
  std::size_t main_size_ = 0;
  void* tsan_main_ = nullptr;
};

greenlet_state& running_greenlet(const char* what) {
  greenlet_state* g = hub::here().running();
  if (g == nullptr) throw std::logic_error(std::string(what) + " is only for code inside a greenlet");
  return *g;
}

}  // namespace

bool in_greenlet() noexcept { return running_here; }

state_ptr start(state_ptr state) {
  hub::here().start(state);
  return state;
}

state_ptr current() {
  greenlet_state* g = hub::here().running();
  return g == nullptr ? nullptr : g->shared_from_this();
}

std::uint64_t prepare_wait() { return ++running_greenlet("a wait").wait_id; }

void wait(std::function<void()> undo) {
  greenlet_state& g = running_greenlet("a wait");
  g.waiting = true;
  g.undo_wait = std::move(undo);
  hub::here().switch_out(g);
  g.waiting = false;
  g.undo_wait = nullptr;
  if (g.pending) std::rethrow_exception(std::exchange(g.pending, nullptr));
}

namespace {
// Whether a wake-up for `wait_id` ends g's current wait; if so it is the
// only one that does (a later one, or one for an older wait, is stale).
bool take_wake_up(greenlet_state& g, std::uint64_t wait_id) {
  if (!g.waiting || g.wait_id != wait_id) return false;  // that wait is over already
  g.waiting = false;                                      // one wake-up per wait
  return true;
}
}  // namespace

void wake(const state_ptr& g, std::uint64_t wait_id) {
  if (!take_wake_up(*g, wait_id)) return;
  hub& h = hub::here();
  h.loop().call_soon([&h, g] { h.switch_into(g); });
}

void join(const state_ptr& state) {
  if (state->done) return;
  if (hub::here().running() == nullptr) {  // main: run the hub until it has ended
    hub::here().run_loop_until_done(*state);
    if (!state->done)
      throw deadlock("greenlet '" + state->name + "' never ended: these wait and nothing can wake them: " +
                     hub::here().waiting_names());
    return;
  }
  if (state.get() == hub::here().running()) throw std::logic_error("a greenlet cannot join itself");
  const std::uint64_t id = prepare_wait();
  state->joiners.emplace_back(current(), id);
  wait(nullptr);
}

void kill(const state_ptr& state, std::exception_ptr reason) {
  if (state->done) return;
  state->pending = std::move(reason);
  if (state.get() == hub::here().running()) {  // killing itself: right now
    std::rethrow_exception(std::exchange(state->pending, nullptr));
  }
  if (state->waiting) {
    if (state->undo_wait) state->undo_wait();
    wake(state, state->wait_id);
  }
}

}  // namespace detail

using detail::hub;

void sleep(duration d) {
  hub& h = hub::here();
  if (h.running() == nullptr) {  // main: let the greenlets run for d
    spawn_named("main's sleep", [d] { sleep(d); }).join();
    return;
  }
  const auto g = detail::current();
  const std::uint64_t id = detail::prepare_wait();
  const auto timer = h.loop().call_later(d, [g, id] { detail::wake(g, id); });
  detail::wait([&h, timer] { h.loop().cancel_timer(timer); });
}

void yield() {
  hub& h = hub::here();
  if (h.running() == nullptr) return;
  const auto g = detail::current();
  const std::uint64_t id = detail::prepare_wait();
  // To the back of the line: switched into on the loop's next round, the
  // way a wake-up would be, but without a wake-up callback that queues the
  // switch for the round after (half the loop's work per yield). A kill
  // meanwhile has woken it already: then this is a stale turn, and skipped.
  h.loop().call_soon([&h, g, id] {
    if (detail::take_wake_up(*g, id)) h.switch_into(g);
  });
  detail::wait(nullptr);
}

namespace {
void wait_fd(int fd, bool write) {
  hub& h = hub::here();
  const auto g = detail::current();
  if (!g) throw std::logic_error("waiting for a descriptor is only for code inside a greenlet");
  const std::uint64_t id = detail::prepare_wait();
  auto wake = [g, id] { detail::wake(g, id); };
  if (write)
    h.loop().on_writable(fd, wake);
  else
    h.loop().on_readable(fd, wake);
  detail::wait([&h, fd, write] { h.loop().forget_fd(fd, write); });
}
}  // namespace

void wait_readable(int fd) { wait_fd(fd, false); }
void wait_writable(int fd) { wait_fd(fd, true); }

void wait_any(const std::vector<fd_wait>& fds, std::optional<duration> limit) {
  hub& h = hub::here();
  const auto g = detail::current();
  if (!g) throw std::logic_error("waiting for descriptors is only for code inside a greenlet");
  const std::uint64_t id = detail::prepare_wait();
  auto wake = [g, id] { detail::wake(g, id); };
  // Whichever fires first wakes the greenlet (a wake-up per wait); the
  // others are taken back here, however the wait ends.
  std::vector<fd_wait> watched;
  std::optional<event_loop::timer_id> timer;
  auto forget = [&h, &watched, &timer] {
    for (const fd_wait& w : watched) h.loop().forget_fd(w.fd, w.write);
    if (timer) h.loop().cancel_timer(*timer);
    watched.clear();
    timer.reset();
  };
  try {
    for (const fd_wait& w : fds) {
      if (w.write)
        h.loop().on_writable(w.fd, wake);
      else
        h.loop().on_readable(w.fd, wake);
      watched.push_back(w);
    }
  } catch (...) {
    forget();
    throw;
  }
  if (limit) timer = h.loop().call_later(*limit, wake);
  detail::wait(forget);
  forget();
}

std::vector<stall_seen> stalls() { return hub::here().stalls(); }

void run() {
  hub& h = hub::here();
  h.run_loop();
  const std::string stuck = h.waiting_names();
  if (!stuck.empty()) throw deadlock("greenlets wait and nothing can wake them: " + stuck);
}

timeout::timeout(duration limit, std::string what) : open_(std::make_shared<bool>(true)) {
  const auto g = detail::current();
  if (!g) throw std::logic_error("a timeout is only for code inside a greenlet");
  const long long ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
  timer_ = detail::hub::here().loop().call_later(
      limit, [g, open = open_, message = what + " did not finish within " + std::to_string(ms) + " ms"] {
        if (*open) detail::kill(g, std::make_exception_ptr(timed_out(message)));
      });
}

timeout::~timeout() {
  *open_ = false;
  detail::hub::here().loop().cancel_timer(timer_);
}

void event::set() {
  set_ = true;
  for (auto& [g, id] : std::exchange(waiters_, {})) detail::wake(g, id);
}

void event::wait() {
  if (set_) return;
  if (!detail::current()) {  // main: run the hub until it is set
    detail::hub::here().run_loop();
    if (!set_) throw deadlock("main waits for an event that no greenlet can set any more");
    return;
  }
  const std::uint64_t id = detail::prepare_wait();
  waiters_.emplace_back(detail::current(), id);
  detail::wait(nullptr);
}

}  // namespace lab::green
