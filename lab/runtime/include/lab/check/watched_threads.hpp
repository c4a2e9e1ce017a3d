// Threads that a check watches instead of joining blindly.
//
// A check that starts threads running the student's code must not wait for
// them forever (a deadlock would only show up as the run's timeout, without
// saying what was stuck), nor give up after a fixed time (a busy machine
// would fail correct code). run_watched() decides from progress
// (lab/progress.hpp): each thread counts the work it finishes, and the
// checking thread fails the check only when that count stood still while
// the threads had every chance to run. It then looks at the threads in
// /proc to say which it was: all of them blocked is a deadlock, some still
// running is a loop that gets nowhere.
//
// Threads that got stuck cannot be joined. They are left behind, detached,
// and run_watched() throws left_behind once the check has its verdict, so
// that the check ends without touching what the threads still use. That is
// why everything a watched thread touches must outlive the check: the
// bodies given to run_watched() capture their state by value (a shared_ptr
// to it), and the object under test they use (a bank, a counter) is not
// destroyed after left_behind.
//
// Part of the check harness (lab_check): the bank and counter checks use it.
#pragma once

#include <lab/check.hpp>
#include <lab/progress.hpp>

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace lab::check::watched {

// Thrown by run_watched() after it failed the check (or marked it
// undecided) and left its threads behind. Whoever owns what they use
// catches it and keeps that alive (use_bank in the bank's check.cpp, say).
struct left_behind {};

// One watched thread's figures, on a cache line of its own so that counting
// does not slow the other threads down.
struct alignas(64) lane {
  // Units of work finished. Relaxed: a progress figure, it orders nothing.
  std::atomic<std::uint64_t> steps{0};
  std::atomic<long> tid{0};  // its Linux thread id, to find it in /proc; relaxed, read late
  std::atomic<bool> finished{false};  // release: its last writes come before
};

// What the watched threads share with the checking thread. Owned by all of
// them together (a shared_ptr), so that it outlives threads left behind.
struct crew {
  explicit crew(int threads) : lanes(static_cast<std::size_t>(threads)) {}

  // Called by thread t for each unit of work it finished.
  void step(int t) {
    lanes[static_cast<std::size_t>(t)].steps.fetch_add(1, std::memory_order_relaxed);
  }

  std::uint64_t steps() const {
    std::uint64_t total = 0;
    for (const auto& l : lanes) total += l.steps.load(std::memory_order_relaxed);
    return total;
  }

  bool all_finished() const {
    for (const auto& l : lanes)
      if (!l.finished.load(std::memory_order_acquire)) return false;
    return true;
  }

  std::vector<lane> lanes;
  // Set when the check gave up on the threads: loops that would otherwise
  // wait for the others (an auditor) end by themselves.
  std::atomic<bool> abandoned{false};
};

// What the check tells run_watched() about the work, for its messages.
struct watch_plan {
  std::string what;    // "4 threads moving money both ways between accounts 0 and 1"
  std::string advice;  // what to do about a deadlock, or ""
};

// The state letter of thread `tid` of this process ('R' running or
// runnable, 'S' or 'D' blocked), or 0 when it is gone.
inline char thread_state(long tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return 0;
  const auto close = text.rfind(')');  // the name in parentheses may hold spaces
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

// Why the unfinished threads of `c` make no progress, in words: blocked,
// each waiting for something that never comes, or running in circles.
inline std::string stuck_message(const crew& c, const watch_plan& plan,
                                 const lab::check::wait_report& report) {
  int unfinished = 0, blocked = 0;
  for (const auto& l : c.lanes) {
    if (l.finished.load(std::memory_order_acquire)) continue;
    ++unfinished;
    const char state = thread_state(l.tid.load(std::memory_order_relaxed));
    if (state == 'S' || state == 'D') ++blocked;
  }
  const std::string figures = report.describe();
  if (blocked == unfinished)
    return "deadlock: " + plan.what + " got stuck, all " + std::to_string(unfinished) +
           " unfinished threads blocked, waiting for each other: " + figures +
           (plan.advice.empty() ? "" : ". " + plan.advice);
  return plan.what + " got stuck: " + std::to_string(unfinished - blocked) + " of " +
         std::to_string(unfinished) +
         " unfinished threads kept running without getting anywhere (an endless loop, or threads "
         "that keep retrying?): " +
         figures;
}

// Runs body(t, crew) on `threads` new threads (t = 0 .. threads-1) and
// waits until they all finish. body calls crew.step(t) for each unit of work
// it finishes, and must capture its state by value (see the top of this
// file). If the steps stop growing while the threads could run, fails the
// check with stuck_message(); if the machine leaves them no chance to run,
// marks it undecided; either way the threads are left behind and
// left_behind is thrown. Called from the checking thread.
template <typename Body>
void run_watched(int threads, Body body, const watch_plan& plan) {
  auto shared = std::make_shared<crew>(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([shared, body, t]() mutable {
      auto& mine = shared->lanes[static_cast<std::size_t>(t)];
      mine.tid.store(gettid(), std::memory_order_relaxed);
      body(t, *shared);
      mine.finished.store(true, std::memory_order_release);
    });
  const auto report = lab::check::wait_for_progress([&] { return shared->all_finished(); },
                                                    [&] { return shared->steps(); });
  if (report.result == lab::check::wait_result::done) {
    for (auto& worker : workers) worker.join();
    return;
  }
  shared->abandoned.store(true, std::memory_order_relaxed);
  if (report.result == lab::check::wait_result::too_busy)
    lab::check::undecided(report.describe());
  else
    FAIL_CHECK(stuck_message(*shared, plan, report));
  for (auto& worker : workers) worker.detach();
  throw left_behind{};
}

}  // namespace lab::check::watched
