// What the scheduler checks see of a run: everything the check's own tasks
// did (a log of events, each task's last wait, clean-ups), and the clock the
// scheduler was given (virtual, or the real one with its calls counted).
//
// The student's scheduler runs on a thread of its own (watched_run.hpp)
// while the checking thread watches its progress, so the counters it reads
// meanwhile are atomics and the rest is under `lock`. A world is held by
// shared_ptr by the tasks and the clock: a run left behind (stuck) keeps it
// alive.
#pragma once

#include <lab/coop_task.hpp>
#include <lab/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace scheduler_check {

using namespace std::chrono_literals;
using lab::coop::duration;
using lab::coop::time_point;

// Thrown by the clock at a scheduler whose run the check has given up on,
// so that a loop that asks it the time ends.
struct run_abandoned {};

// Where the virtual clock starts: any moment will do; not zero, so that a
// scheduler that confuses "no deadline" with time zero shows it.
inline const time_point virtual_start = time_point(std::chrono::hours(1000));

struct world {
  // --- counted as they happen (read by the checking thread meanwhile) ---
  // Steps of the check's tasks (each resume of a body): the run's progress.
  std::atomic<std::uint64_t> steps{0};
  // Times the scheduler asked the clock the time, and slept with it.
  std::atomic<std::uint64_t> time_asked{0};
  std::atomic<std::uint64_t> sleeps{0};
  // Sleeps that moved the virtual clock forward: progress too (a scheduler
  // that sleeps until the past again and again is not getting anywhere).
  std::atomic<std::uint64_t> time_moves{0};
  // Virtual time, in nanoseconds since virtual_start.
  std::atomic<std::int64_t> virtual_ns{0};
  std::atomic<bool> abandoned{false};
  std::atomic<int> tasks_made{0};
  std::atomic<int> tasks_ended{0};  // bodies that returned, threw, or were destroyed

  // --- guarded by lock ---
  std::mutex lock;
  std::vector<std::string> log;                  // what the tasks did, in order
  std::map<std::string, std::string> last_wait;  // task name -> what it waits for now
  std::vector<std::string> cleaned;              // tasks whose clean-up ran
  // Pipes the tasks read and write (kept here: a run left behind still uses them).
  std::vector<lab::pipe_ends> pipes;

  void note(const std::string& event) {
    const std::lock_guard<std::mutex> hold(lock);
    log.push_back(event);
  }
  void waits(const std::string& task, const std::string& what) {
    const std::lock_guard<std::mutex> hold(lock);
    last_wait[task] = what;
  }
  std::vector<std::string> events() {
    const std::lock_guard<std::mutex> hold(lock);
    return log;
  }
  bool was_cleaned(const std::string& task) {
    const std::lock_guard<std::mutex> hold(lock);
    for (const auto& name : cleaned)
      if (name == task) return true;
    return false;
  }
  // Milliseconds of virtual time since the start.
  long virtual_ms() const { return static_cast<long>(virtual_ns.load() / 1'000'000); }
  // Moves virtual time on (a task "working" for a while).
  void advance(duration d) { virtual_ns.fetch_add(d.count()); }
};

// The virtual clock over `w`: time stands still except when the scheduler
// sleeps (sleep_until moves it to the moment asked for, at once) or a task
// advances it.
inline lab::coop::time_source virtual_clock(const std::shared_ptr<world>& w) {
  return {[w] {
            if (w->abandoned.load()) throw run_abandoned();
            w->time_asked.fetch_add(1, std::memory_order_relaxed);
            return virtual_start + duration(w->virtual_ns.load());
          },
          [w](time_point until) {
            if (w->abandoned.load()) throw run_abandoned();
            w->sleeps.fetch_add(1, std::memory_order_relaxed);
            const std::int64_t target = (until - virtual_start).count();
            if (target > w->virtual_ns.load()) {
              w->virtual_ns.store(target);
              w->time_moves.fetch_add(1, std::memory_order_relaxed);
            }
          }};
}

// The machine's clock, with the calls counted (every real sleep counts as a
// move: time passes in it).
inline lab::coop::time_source counted_real_clock(const std::shared_ptr<world>& w) {
  return {[w] {
            if (w->abandoned.load()) throw run_abandoned();
            w->time_asked.fetch_add(1, std::memory_order_relaxed);
            return lab::coop::clock_type::now();
          },
          [w](time_point until) {
            if (w->abandoned.load()) throw run_abandoned();
            w->sleeps.fetch_add(1, std::memory_order_relaxed);
            w->time_moves.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::sleep_until(until);
          }};
}

}  // namespace scheduler_check
