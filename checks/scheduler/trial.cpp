// One run of the student's scheduler under watch (see trial.hpp).
#include "trial.hpp"

#include <lab/check.hpp>
#include <lab/progress.hpp>
#include <lab/todo.hpp>

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <fstream>
#include <thread>

scheduler* make_scheduler(lab::coop::time_source time);
lab::coop::task_handle spawn_on(scheduler* s, lab::coop::task body);
void run_scheduler(scheduler* s);
void destroy_scheduler(scheduler* s);

namespace scheduler_check {
namespace {

// This thread's time on a CPU and waiting for one, in seconds.
struct schedstat_reading {
  double running = 0;
  double waiting = 0;
};
schedstat_reading read_own_schedstat() {
  std::ifstream file("/proc/thread-self/schedstat");
  double running_ns = 0, waiting_ns = 0;
  file >> running_ns >> waiting_ns;
  return {running_ns / 1e9, waiting_ns / 1e9};
}

// A thread's state as /proc shows it: "running", "blocked", ... .
std::string thread_state(long tid) {
  std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text;
  std::getline(file, text);
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return "gone";
  switch (text[close + 2]) {
    case 'R':
      return "running";
    case 'S':
    case 'D':
      return "blocked in the kernel";
    default:
      return std::string("in state ") + text[close + 2];
  }
}

// What the run shared with the checking thread: owned by both, so that a
// run left behind keeps it.
struct run_shared {
  std::atomic<bool> finished{false};  // release: the fields below come before
  std::atomic<long> tid{0};
  std::exception_ptr error;
  thread_figures figures;
};

}  // namespace

trial::trial(clock_kind kind)
    : w(std::make_shared<world>()),
      scheduler_(make_scheduler(kind == clock_kind::virtual_time ? virtual_clock(w)
                                                                 : counted_real_clock(w))) {}

trial::~trial() {
  if (!left_behind_) destroy_scheduler(scheduler_);
}

lab::coop::task_handle trial::spawn(std::string name, lab::coop::task body) {
  const lab::coop::task_handle handle = spawn_on(scheduler_, std::move(body));
  spawned_.emplace_back(std::move(name), handle);
  return handle;
}

bool trial::run(const std::function<void()>& unstick) {
  auto shared = std::make_shared<run_shared>();
  std::thread runner([shared, s = scheduler_] {
    shared->tid.store(static_cast<long>(::syscall(SYS_gettid)));
    const schedstat_reading start = read_own_schedstat();
    const auto began = std::chrono::steady_clock::now();
    try {
      run_scheduler(s);
    } catch (const run_abandoned&) {
    } catch (...) {
      shared->error = std::current_exception();
    }
    const schedstat_reading end = read_own_schedstat();
    shared->figures.cpu = end.running - start.running;
    shared->figures.waiting_cpu = end.waiting - start.waiting;
    shared->figures.wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    shared->finished.store(true, std::memory_order_release);
  });
  const auto done = [&] { return shared->finished.load(std::memory_order_acquire); };
  // Progress: a task took a step, or the clock moved. Asking the time is
  // not progress (a busy wait does nothing else); what the scheduler asked
  // since progress last moved is what the report says.
  std::uint64_t last_progress = 0, asked_then = 0, slept_then = 0;
  const auto progress = [&] {
    const std::uint64_t now = w->steps.load() + w->time_moves.load();
    if (now != last_progress) {
      last_progress = now;
      asked_then = w->time_asked.load();
      slept_then = w->sleeps.load();
    }
    return now;
  };
  const lab::check::wait_report report = lab::check::wait_for_progress(done, progress);
  if (report.result == lab::check::wait_result::done) {
    runner.join();
    figures_ = shared->figures;
    if (shared->error) {
      try {
        std::rethrow_exception(shared->error);
      } catch (const lab::not_done&) {
        throw;
      } catch (const std::exception& e) {
        run_error_ = e.what();
      } catch (...) {
        run_error_ = "an exception that is not a std::exception";
      }
    }
    return true;
  }
  // Stuck (or the machine too busy to tell): say what was seen, then try to
  // get the thread out.
  const std::uint64_t asked = w->time_asked.load() - asked_then;
  const std::uint64_t slept = w->sleeps.load() - slept_then;
  const std::string state = thread_state(shared->tid.load());
  std::string seen = what_tasks_wait_for() +
                     " Since the last step of a task the scheduler asked the "
                     "clock the time " +
                     std::to_string(asked) + " times and slept " + std::to_string(slept) +
                     " times; its thread was " + state + ".";
  if (state == "running" && slept == 0 && asked > 1000)
    seen +=
        " It asks the time again and again without sleeping: a busy wait. When no task is "
        "ready, sleep with the clock's sleep_until() until the earliest deadline (with the "
        "check's virtual clock, time moves only then)";
  else if (state == "running")
    seen += " It runs without getting anywhere: a loop that waits for a task it no longer has?";
  else
    seen +=
        " It waits for something no task will bring: a task lost, or a wait (poll, a sleep) "
        "for the wrong thing";
  if (state != "running" && slept == 0)
    seen +=
        ". To sleep, use the clock it was given (time_.sleep_until), not std::this_thread: "
        "with the check's virtual clock, that is what moves time";
  w->abandoned.store(true);
  if (unstick) unstick();
  const auto second = lab::check::wait_for_progress(done, progress, std::chrono::seconds(2));
  if (second.result == lab::check::wait_result::done) {
    runner.join();
  } else {
    runner.detach();
    left_behind_ = true;
  }
  if (report.result == lab::check::wait_result::too_busy)
    lab::check::undecided(report.describe());
  else
    FAIL_CHECK("run() never returned: ", report.describe(), ". ", seen);
  return false;
}

std::string trial::what_tasks_wait_for() {
  int left = 0;
  std::string which;
  const std::lock_guard<std::mutex> hold(w->lock);
  for (const auto& [name, wait] : w->last_wait) {
    if (wait == "ended" || wait == "cleaned up" || wait.starts_with("ended ")) continue;
    which += (left++ > 0 ? "; " : "") + name + " waits for " + wait;
  }
  if (left == 0) return "Every task had ended.";
  return std::to_string(left) + (left == 1 ? " task had not ended (" : " tasks had not ended (") +
         which + ").";
}

std::string trial::unfinished() {
  std::string names;
  int left = 0;
  for (const auto& [name, handle] : spawned_)
    if (!handle.done()) names += (left++ > 0 ? ", " : "") + name;
  if (left == 0) return "";
  return std::to_string(left) + " of " + std::to_string(spawned_.size()) + " tasks never ended (" +
         names + "). " + what_tasks_wait_for();
}

}  // namespace scheduler_check
