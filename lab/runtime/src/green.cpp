// The hub of lab::green: one per thread. It owns a lab::event_loop and runs
// it on the thread's own stack ("main"). Greenlets whose turn has come wait
// in the hub's line of turns; one loop callback, the round, switches into
// the first, and from then on each greenlet that waits hands the thread
// straight to the next in line. Only the last of the round switches back
// to main, which goes on with the loop (timers, descriptors, callbacks).
// A greenlet that waits registers its wake-up with the loop (a timer, a
// descriptor) or with whoever will wake it (an event, a joined greenlet).
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
#include <deque>
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
  context::stack_context stack{};
  // The hub's hold on a greenlet from its start to its end, so that a turn
  // in the line can be a plain pointer: nobody else need keep it alive.
  state_ptr keep_alive;
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

// Whether a wake-up for `wait_id` ends g's current wait; if so it is the
// only one that does (a later one, or one for an older wait, is stale).
bool take_wake_up(greenlet_state& g, std::uint64_t wait_id) {
  if (!g.waiting || g.wait_id != wait_id) return false;  // that wait is over already
  g.waiting = false;                                      // one wake-up per wait
  return true;
}

// The contract of the hub (one thread; nothing here is shared with another):
// - Turns are taken in the order given (first come, first served), so
//   yield() is round robin.
// - A round runs the turns that were in line when it began; turns given
//   during it wait for the next round, after the loop has looked at its
//   timers and descriptors, unless the loop has nothing else to do.
// - Main (the loop) runs while no greenlet does; a greenlet's end always
//   switches back to main, which wakes its joiners.
class hub {
 public:
  hub()
      : loop_({.on_stall = [this](const stall& s) {
          // Greenlets are timed by the hub itself (transfer); what the
          // loop reports is a callback or a coroutine task.
          report_stall(s.task, s.task, s.duration);
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
        [this, raw](context::fiber&& from) { return body_of(*raw, std::move(from)); });
#if LAB_GREEN_TSAN
    g->context->tsan_fiber = __tsan_create_fiber(0);
#endif
    g->context->keep_alive = g;
    live_.insert(raw);
    give_turn(raw, 0, false);
  }

  // Puts g in the line of turns. `check`: the turn is g's only if its wait
  // `wait_id` is still on when the turn comes (yield's turn, which a kill
  // may overtake); otherwise the wake-up was taken already.
  void give_turn(greenlet_state* g, std::uint64_t wait_id, bool check) {
    line_.push_back({g, wait_id, check});
    if (!in_round_ && !round_scheduled_) schedule_round();
  }

  // Greenlet side: g goes to the back of the line (yield). The hot path of
  // every round-robin switch, so wait()'s work is done here without its
  // take-back and lookups; a greenlet runs only inside a round, so there is
  // no round to schedule. The turn is checked when it comes: a kill
  // meanwhile has woken g already, and then this turn is stale and skipped.
  void yield(greenlet_state& g) {
    const std::uint64_t id = ++g.wait_id;
    line_.push_back({&g, id, true});
    g.waiting = true;
    switch_out(g);
    g.waiting = false;
    if (g.pending) std::rethrow_exception(std::exchange(g.pending, nullptr));
  }

  // Greenlet side: g waits; the thread goes to the next greenlet in line,
  // or to main. Returns when g's turn comes: at once if the next turn is
  // g's own (it yielded with nobody else ready).
  void switch_out(greenlet_state& g) {
    greenlet_state* next = in_round_ ? next_in_round() : nullptr;
    if (next != &g) transfer(&g, next);
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
  struct turn {
    greenlet_state* g;
    std::uint64_t wait_id;
    bool check;
  };

  // A loop callback (main side): the round. Switches into the first
  // greenlet in line; the others are switched to by the greenlet before
  // them (switch_out), and the last switches back here.
  void run_round() {
    round_scheduled_ = false;
    in_round_ = true;
    round_left_ = line_.size();
    while (greenlet_state* next = next_in_round()) {
      transfer(nullptr, next);
      // Back in main from switching_from_, which waits now or has ended.
      if (switching_from_ != nullptr && !switching_from_->context->self) {
        finished(*switching_from_);
        break;  // through the loop: main may have joined the one that ended
      }
    }
    in_round_ = false;
    round_left_ = 0;
    if (!line_.empty()) schedule_round();
  }

  // A round among the loop's callbacks; it times its greenlets itself.
  void schedule_round() {
    round_scheduled_ = true;
    loop_.call_soon_self_timed([this] { run_round(); });
  }

  // The greenlet whose turn is next in this round, or nullptr once the
  // round is over. When the round's turns are used up and the loop has
  // nothing else to do, the next round starts at once: going through the
  // loop would only come straight back.
  greenlet_state* next_in_round() {
    for (;;) {
      if (round_left_ == 0) {
        if (line_.empty() || !loop_.nothing_else_to_do()) return nullptr;
        round_left_ = line_.size();
      }
      const turn t = line_.front();
      line_.pop_front();
      --round_left_;
      if (t.check && !take_wake_up(*t.g, t.wait_id)) continue;  // overtaken by a kill's wake-up
      return t.g;
    }
  }

  // Leaves `from` for `to` (nullptr: main, on the thread's own stack) and
  // returns when something switches back to `from`. Every switch between
  // two sides that go on is this one; a greenlet's end is body_of's.
  void transfer(greenlet_state* from, greenlet_state* to) {
    note_time_of(from);
    context::fiber& target = to != nullptr ? to->context->self : main_;
#if LAB_GREEN_ASAN
    void** fake_stack = from != nullptr ? &from->context->asan_fake_stack : &main_fake_stack_;
    if (to != nullptr)
      __sanitizer_start_switch_fiber(fake_stack, static_cast<char*>(to->context->stack.sp) - to->context->stack.size,
                                     to->context->stack.size);
    else
      __sanitizer_start_switch_fiber(fake_stack, main_bottom_, main_size_);
#endif
#if LAB_GREEN_TSAN
    __tsan_switch_to_fiber(to != nullptr ? to->context->tsan_fiber : tsan_main_, 0);
#endif
    running_ = to;
    running_here = to != nullptr;
    switching_from_ = from;
    context::fiber back = std::move(target).resume();
    arrived(std::move(back), from);
  }

  // Just switched to `self` (nullptr: main) by switching_from_, which is
  // `back` now: suspended, or empty if it has ended.
  void arrived(context::fiber&& back, greenlet_state* self) {
#if LAB_GREEN_ASAN
    const void* bottom = nullptr;
    std::size_t size = 0;
    __sanitizer_finish_switch_fiber(self != nullptr ? self->context->asan_fake_stack : main_fake_stack_, &bottom,
                                    &size);
    if (switching_from_ == nullptr) {  // from main: where main's stack is, for the way back
      main_bottom_ = bottom;
      main_size_ = size;
    }
#else
    (void)self;
#endif
    if (switching_from_ != nullptr)
      switching_from_->context->self = std::move(back);
    else
      main_ = std::move(back);
  }

  // The watchdog: a greenlet that kept the thread for long without waiting
  // (a blocking call) held up every other one. Checked as it switches away.
  void note_time_of(const greenlet_state* leaving) {
    const auto now = event_loop::coarse_now();
    if (leaving != nullptr && now - since_ > stall_warning_)
      report_stall("greenlet '" + leaving->name + "'", leaving->name,
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - since_));
    since_ = now;
  }

  void report_stall(const std::string& who, const std::string& name, std::chrono::milliseconds took) {
    std::fprintf(stderr,
                 "green hub: %s kept the thread for about %lld ms without waiting (a blocking "
                 "call: every other greenlet waited)\n",
                 who.c_str(), static_cast<long long>(took.count()));
    stalls_.push_back({name, took});
  }

  // The greenlet's whole life, on its own stack.
  context::fiber body_of(greenlet_state& g, context::fiber&& from) {
    arrived(std::move(from), &g);
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
    // To main, which wakes the joiners (run_round); this stack is freed.
    note_time_of(&g);
#if LAB_GREEN_ASAN
    __sanitizer_start_switch_fiber(nullptr, main_bottom_, main_size_);  // nullptr: this stack is done
#endif
#if LAB_GREEN_TSAN
    __tsan_switch_to_fiber(tsan_main_, 0);
#endif
    running_ = nullptr;
    running_here = false;
    switching_from_ = &g;
    return std::move(main_);
  }

  // Main side, once g has ended.
  void finished(greenlet_state& g) {
    const state_ptr last_hold = std::move(g.context->keep_alive);  // g lives to the end of this
    g.done = true;
    live_.erase(&g);
#if LAB_GREEN_TSAN
    __tsan_destroy_fiber(g.context->tsan_fiber);
#endif
    for (auto& [joiner, id] : std::exchange(g.joiners, {})) wake(joiner, id);
  }

  // The same threshold as the loop's watchdog (asyncio's, 100 ms).
  const std::chrono::milliseconds stall_warning_ = loop_options{}.stall_warning;

  event_loop loop_;
  std::deque<turn> line_;          // the turns given, in order
  std::size_t round_left_ = 0;     // how many of them belong to the round running now
  bool in_round_ = false;
  bool round_scheduled_ = false;   // a round is among the loop's callbacks
  greenlet_state* running_ = nullptr;
  // Who made the last switch (nullptr: main): until the next one, who
  // switched to the side that runs now.
  greenlet_state* switching_from_ = nullptr;
  context::fiber main_;            // main, while a greenlet runs
  event_loop::clock::duration since_{};       // when the running side got the thread
  std::unordered_set<greenlet_state*> live_;  // started, not ended
  std::vector<stall_seen> stalls_;
  const void* main_bottom_ = nullptr;
  std::size_t main_size_ = 0;
  void* main_fake_stack_ = nullptr;
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

void wake(const state_ptr& g, std::uint64_t wait_id) {
  if (!take_wake_up(*g, wait_id)) return;
  hub::here().give_turn(g.get(), wait_id, false);
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
  if (detail::greenlet_state* g = h.running()) h.yield(*g);
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
