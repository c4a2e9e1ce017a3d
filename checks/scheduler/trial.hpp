// One run of the student's scheduler under watch.
//
// run() may hang (a lost wake-up, a busy wait on a clock that never moves),
// and a check must neither wait for it forever nor give up after a fixed
// time (a busy machine would fail correct code). So a trial runs the
// scheduler's run() on a thread of its own and judges from progress
// (lab/progress.hpp): the steps of the check's tasks and the moves of the
// clock. When they stand still while the thread had every chance to run,
// the check fails with what was seen: the tasks not ended and what each
// waits for, how often the scheduler asked the time and slept meanwhile,
// and whether its thread was blocked or running.
#pragma once

#include <lab/coop_task.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "world.hpp"

class scheduler;  // the student's

namespace scheduler_check {

// What the scheduler's thread used during run(), from its schedstat.
struct thread_figures {
  double cpu = 0;          // seconds on a CPU
  double waiting_cpu = 0;  // seconds runnable but waiting for a CPU others held
  double wall = 0;         // seconds from start to end
  // Wall time in which it could have run: what a CPU-time figure is compared with.
  double chance() const { return wall - waiting_cpu; }
};

class trial {
 public:
  enum class clock_kind { virtual_time, real_time };
  explicit trial(clock_kind kind);
  ~trial();
  trial(const trial&) = delete;
  trial& operator=(const trial&) = delete;

  // What the check's tasks share (log, clock, pipes).
  const std::shared_ptr<world> w;
  scheduler* student() const { return scheduler_; }

  // Spawns `body` (named `name` in reports) on the student's scheduler.
  lab::coop::task_handle spawn(std::string name, lab::coop::task body);

  // Runs the scheduler's run() on its own thread until it returns: true.
  // If it stops making progress, fails the check with what was seen (or marks
  // it undecided on a machine too busy to tell), calls `unstick` (say, writes
  // to the pipes the tasks wait on), and returns false. lab::not_done from
  // the stub is thrown again here.
  bool run(const std::function<void()>& unstick = {});

  // What run() threw (not lab::not_done), in words, or "".
  const std::string& run_error() const { return run_error_; }
  // The scheduler thread's figures over run().
  const thread_figures& figures() const { return figures_; }
  // "" when every task spawned through this trial has ended; else how many
  // did not, and what each last waited for.
  std::string unfinished();

 private:
  std::string what_tasks_wait_for();

  scheduler* scheduler_;
  bool left_behind_ = false;  // a run that never returned still uses the scheduler
  std::string run_error_;
  thread_figures figures_;
  std::vector<std::pair<std::string, lab::coop::task_handle>> spawned_;
};

}  // namespace scheduler_check
