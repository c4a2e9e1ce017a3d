// The check's own tasks: small coroutines that log what they do in their
// world, so that a check decides from the order of events. Each counts its
// steps (the run's progress) and says what it waits for before each
// co_yield (what a stuck run is reported with).
//
// Parameters are taken by value: a coroutine keeps copies in its frame,
// where references to the caller's objects would dangle.
#pragma once

#include <lab/coop_task.hpp>

#include <unistd.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "world.hpp"

class scheduler;  // the student's
lab::coop::task_handle spawn_on(scheduler* s, lab::coop::task body);
void cancel_on(scheduler* s, const lab::coop::task_handle& handle);

namespace scheduler_check {

using lab::coop::readable;
using lab::coop::sleep_for;
using lab::coop::task;
using lab::coop::task_handle;
using lab::coop::yield_now;

inline std::string in_ms(duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Lecture 004's my_coro: says "name i", then lets the others run; `steps`
// times, then returns `steps`.
inline task talker(std::shared_ptr<world> w, std::string name, int steps) {
  for (int i = 1; i <= steps; ++i) {
    w->steps.fetch_add(1);
    w->note(name + " " + std::to_string(i));
    w->waits(name, "yield_now after its step " + std::to_string(i));
    co_yield yield_now{};
  }
  w->steps.fetch_add(1);
  w->waits(name, "ended");
  co_return steps;
}

// A talker that throws std::runtime_error(message) at its step good + 1.
inline task thrower(std::shared_ptr<world> w, std::string name, int good, std::string message) {
  for (int i = 1; i <= good; ++i) {
    w->steps.fetch_add(1);
    w->note(name + " " + std::to_string(i));
    w->waits(name, "yield_now after its step " + std::to_string(i));
    co_yield yield_now{};
  }
  w->steps.fetch_add(1);
  w->waits(name, "ended by an exception");
  throw std::runtime_error(message);
}

// Says "name 1", spawns a talker `child` of 2 steps (its handle goes to
// *child_handle), and goes on for 2 more steps.
inline task parent(std::shared_ptr<world> w, scheduler* s, std::string name, std::string child,
                   std::shared_ptr<std::optional<task_handle>> child_handle) {
  w->steps.fetch_add(1);
  w->note(name + " 1");
  *child_handle = spawn_on(s, talker(w, child, 2));
  for (int i = 2; i <= 3; ++i) {
    w->waits(name, "yield_now after its step " + std::to_string(i - 1));
    co_yield yield_now{};
    w->steps.fetch_add(1);
    w->note(name + " " + std::to_string(i));
  }
  w->waits(name, "ended");
  co_return 3;
}

// One of very many: two yields, then returns `number`. No log (it would
// cost more than the scheduling it checks).
inline task numbered(std::shared_ptr<world> w, int number) {
  w->steps.fetch_add(1, std::memory_order_relaxed);
  co_yield yield_now{};
  w->steps.fetch_add(1, std::memory_order_relaxed);
  co_yield yield_now{};
  w->steps.fetch_add(1, std::memory_order_relaxed);
  co_return number;
}

// Sleeps each of `naps` in turn; logs "name@T" (T: virtual ms) at each wake.
inline task sleeper(std::shared_ptr<world> w, std::string name, std::vector<duration> naps) {
  for (const duration nap : naps) {
    w->waits(name, "sleep_for " + in_ms(nap));
    co_yield sleep_for{nap};
    w->steps.fetch_add(1);
    w->note(name + "@" + std::to_string(w->virtual_ms()));
  }
  w->waits(name, "ended");
  co_return 0;
}

// Works `work` of virtual time per step, `steps` times, yielding after each;
// logs "name i@T".
inline task worker(std::shared_ptr<world> w, std::string name, int steps, duration work) {
  for (int i = 1; i <= steps; ++i) {
    w->steps.fetch_add(1);
    w->advance(work);
    w->note(name + " " + std::to_string(i) + "@" + std::to_string(w->virtual_ms()));
    w->waits(name, "yield_now after its step " + std::to_string(i));
    co_yield yield_now{};
  }
  w->waits(name, "ended");
  co_return steps;
}

// Waits until `fd` (non-blocking) is readable, reads a byte: logs
// "name read X", or "name resumed with nothing to read".
inline task reader(std::shared_ptr<world> w, std::string name, int fd) {
  w->waits(name, "readable on descriptor " + std::to_string(fd));
  co_yield readable{fd};
  w->steps.fetch_add(1);
  char byte = 0;
  if (::read(fd, &byte, 1) == 1)
    w->note(name + " read " + std::string(1, byte));
  else
    w->note(name + " resumed with nothing to read");
  w->waits(name, "ended");
  co_return byte;
}

// One write of a writer's plan: sleep `before`, then write `byte` to `fd`.
struct planned_write {
  duration before;
  int fd;
  char byte;
};

// Carries out `plan` in order; logs "wrote X" after each write.
inline task writer(std::shared_ptr<world> w, std::string name, std::vector<planned_write> plan) {
  for (const planned_write& p : plan) {
    w->waits(name, "sleep_for " + in_ms(p.before) + " before writing " + std::string(1, p.byte));
    co_yield sleep_for{p.before};
    w->steps.fetch_add(1);
    if (::write(p.fd, &p.byte, 1) != 1) w->note(name + " could not write");
    w->note("wrote " + std::string(1, p.byte));
  }
  w->waits(name, "ended");
  co_return 0;
}

// A task's clean-up: its destructor records that it ran.
struct cleanup_guard {
  std::shared_ptr<world> w;
  std::string name;
  cleanup_guard(std::shared_ptr<world> w_, std::string name_)
      : w(std::move(w_)), name(std::move(name_)) {}
  cleanup_guard(const cleanup_guard&) = delete;
  cleanup_guard& operator=(const cleanup_guard&) = delete;
  ~cleanup_guard() {
    const std::lock_guard<std::mutex> hold(w->lock);
    w->cleaned.push_back(name);
    w->last_wait[name] = "cleaned up";
  }
};

// What a guarded task waits for until it is cancelled.
enum class waits_for { turns, a_long_sleep, a_descriptor };

// Holds a cleanup_guard and waits to be cancelled: yields (at most
// `most_turns` times, then gives up and says so), or sleeps an hour, or
// waits for `fd` to become readable. Logs "name step" at each turn.
inline task guarded(std::shared_ptr<world> w, std::string name, waits_for what, int fd,
                    int most_turns = 1000) {
  const cleanup_guard guard(w, name);
  switch (what) {
    case waits_for::turns:
      for (int i = 1; i <= most_turns; ++i) {
        w->steps.fetch_add(1);
        w->note(name + " step");
        w->waits(name, "yield_now after its step " + std::to_string(i));
        co_yield yield_now{};
      }
      w->note(name + " ran to its end");
      break;
    case waits_for::a_long_sleep:
      w->waits(name, "sleep_for an hour");
      co_yield sleep_for{std::chrono::hours(1)};
      w->note(name + " woke");
      break;
    case waits_for::a_descriptor:
      w->waits(name, "readable on descriptor " + std::to_string(fd));
      co_yield readable{fd};
      w->note(name + " woke");
      break;
  }
  w->steps.fetch_add(1);
  w->waits(name, "ended");
  co_return 0;
}

// Waits first (`turns` yields, then a sleep of `nap` if it is not zero),
// then cancels each victim and logs "cancelled NAME, cleaned up" or
// "cancelled NAME, not cleaned up" (whether its clean-up had run when
// cancel() returned).
inline task canceller(std::shared_ptr<world> w, scheduler* s, std::string name, int turns,
                      duration nap, std::vector<std::pair<std::string, task_handle>> victims) {
  for (int i = 1; i <= turns; ++i) {
    w->steps.fetch_add(1);
    w->waits(name, "yield_now after its step " + std::to_string(i));
    co_yield yield_now{};
  }
  if (nap > duration::zero()) {
    w->waits(name, "sleep_for " + in_ms(nap));
    co_yield sleep_for{nap};
  }
  w->steps.fetch_add(1);
  for (const auto& [victim, handle] : victims) {
    cancel_on(s, handle);
    w->note("cancelled " + victim + (w->was_cleaned(victim) ? ", cleaned up" : ", not cleaned up"));
  }
  w->waits(name, "ended");
  co_return 0;
}

}  // namespace scheduler_check
