// One call of the student's calc_primes_*, watched instead of trusted.
//
// The call runs on a thread of its own while the checking thread watches
// the work log (lab/work_log.hpp) with lab::check::wait_for_progress: a call
// that stops testing numbers and does not return fails once it had every
// chance to go on (never after a fixed time, which a busy machine would turn
// into a failure of correct code), and a machine too busy to tell makes the
// check undecided. A parent that waits for its children while they wait to
// write into full pipes is such a call: watch() says so, kills the children
// so that the parent goes on, and lets the check carry on with what it got.
//
// With `meet`, every worker waits at its first number until all of them have
// started (work_log::meet). Workers that run at the same time meet at once;
// workers started one after the other never do, and the first one's wait
// makes no progress: that is decided by evidence too, then the workers are
// released so that the call can finish.
//
// A call that still does not return is left behind: watch() fails the check
// (or marks it undecided) and throws left_behind, which ends the check. The
// thread keeps only what it owns (a shared_ptr), so leaving it is safe.
#pragma once

#include <lab/check.hpp>
#include <lab/primes.hpp>
#include <lab/progress.hpp>
#include <lab/unique_fd.hpp>
#include <lab/work_log.hpp>

#include <dirent.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace watched {

using calc_primes_fn = std::vector<long> (*)(long end, int workers);

// Thrown by watch() after it failed the check, or marked it undecided,
// and left the call running.
struct left_behind {};

struct call_plan {
  calc_primes_fn function = nullptr;
  long end = 0;
  int workers = 1;
  bool processes = false;  // the workers are child processes (for the messages)
  // How many workers must meet at their first number (0: no meeting), and
  // how long, in chance (lab/progress.hpp), the first of them may wait.
  int meet = 0;
  std::chrono::milliseconds meeting_patience = std::chrono::seconds(5);
};

struct call_result {
  std::vector<long> primes;
  lab::work_log::summary log;  // read the moment it returned
  pid_t caller = 0;            // the thread that called it (a Linux thread id)
  std::size_t threads_before =
      0;                      // threads of this process just before the call, the caller's included
  bool met = false;           // every worker of the meeting started while the first one waited
  std::string not_met;        // if not: what the meeting saw, in words
  int children_returned = 0;  // child processes that returned from the call (see below)
  int children_called_exit = 0;  // child processes that ended with exit(), not _exit()
};

// "end 50 with 5 workers"
inline std::string describe(const call_plan& plan) {
  return "end " + std::to_string(plan.end) + " with " + std::to_string(plan.workers) +
         (plan.workers == 1 ? " worker" : " workers");
}

namespace detail {

// What the calling thread and the checking thread share. Owned by both (a
// shared_ptr), so that a call left behind still has it.
struct shared_call {
  std::atomic<bool> returned{false};  // release: every field below is written before
  std::vector<long> primes;
  lab::work_log::summary log;
  std::exception_ptr error;
  std::atomic<pid_t> caller{0};  // relaxed: set before the call, read while it runs for a message
  std::size_t threads_before = 0;
};

// How the forked children of a call ended, counted in memory shared with
// them. A child that returns from calc_primes_processes comes back into the
// calling thread below, in the child: it is counted and stopped there, before
// it runs any more of its parent's code. A child that calls exit() runs the
// parent's atexit handlers: one of them counts it.
struct child_endings {
  std::atomic<int> returned{0};
  std::atomic<int> called_exit{0};
};

inline pid_t checking_process = 0;  // set once, before any call forks
inline child_endings& endings();

inline void count_exit_in_child() {
  if (getpid() != checking_process) endings().called_exit.fetch_add(1, std::memory_order_relaxed);
}

// The counters, made (and the atexit handler registered) on first use, by
// the checking process, before the first call.
inline child_endings& endings() {
  static child_endings& shared = []() -> child_endings& {
    void* memory = mmap(nullptr, sizeof(child_endings), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap for the children's endings failed");
    checking_process = getpid();
    std::atexit(count_exit_in_child);
    return *new (memory) child_endings;
  }();
  return shared;
}

// Waits for the call to return, judging by the numbers it tests.
inline lab::check::wait_report wait_for_return(const shared_call& call) {
  return lab::check::wait_for_progress(
      [&call] { return call.returned.load(std::memory_order_acquire); },
      [] { return lab::work_log::calls_so_far(); });
}

// The child processes of this process that are still alive, and how many
// of them are blocked in write() (from /proc/PID/syscall, when this process
// may read it).
struct children_seen {
  int alive = 0;
  int in_write = 0;
  bool known = true;  // every alive child's system call could be read
};

inline children_seen look_at_children() {
  children_seen seen;
  const lab::unique_dir proc = lab::open_dir("/proc");
  if (!proc) return seen;
  while (const dirent* entry = readdir(proc.get())) {
    const std::string pid = entry->d_name;
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    // "pid (name) S ppid ...": the name may hold spaces; skip past the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos || close + 4 >= text.size()) continue;
    const char state = text[close + 2];
    if (std::atol(text.c_str() + close + 4) != getpid() || state == 'Z') continue;
    ++seen.alive;
    std::ifstream syscall_file("/proc/" + pid + "/syscall");
    long number = -1;
    if (syscall_file >> number)
      seen.in_write += number == SYS_write ? 1 : 0;
    else
      seen.known = false;
  }
  return seen;
}

// "1 child process was still alive (now killed), 1 of them waiting in
// write() for room in a full pipe: ..."
inline std::string describe_children(const children_seen& seen) {
  const std::string hint =
      ": a pipe holds 64 KiB, and a child that sends more waits until the parent reads; read"
      " every pipe to its end before you waitpid() for the children";
  const std::string alive = std::to_string(seen.alive) +
                            (seen.alive == 1 ? " child process was" : " child processes were") +
                            " still alive (now killed)";
  if (seen.in_write > 0 && seen.in_write == seen.alive)
    return alive + ", waiting in write() for room in a full pipe" + hint;
  if (seen.in_write > 0)
    return alive + ", " + std::to_string(seen.in_write) +
           " of them waiting in write() for room in a full pipe" + hint;
  if (!seen.known) return alive + ". Were they waiting in write() for room in a full pipe?" + hint;
  return alive + ", none of them in write()";
}

// Gives up on a call that cannot be finished: it keeps running, alone.
[[noreturn]] inline void leave(std::thread& runner) {
  lab::work_log::release();
  runner.detach();
  throw left_behind{};
}

// What the meeting saw when it stood still, for a message: who came.
inline std::string describe_meeting(const call_plan& plan, pid_t caller,
                                    const lab::check::wait_report& report) {
  const auto log = lab::work_log::read();  // a snapshot: the workers still run
  bool caller_came = false;
  for (const auto& worker : log.workers)
    caller_came |= plan.processes ? worker.pid == getpid() : worker.tid == caller;
  const std::string unit = plan.processes ? "child processes" : "worker threads";
  const std::string who = "only " + std::to_string(log.workers.size()) + " of the " +
                          std::to_string(plan.meet) + " " + unit +
                          " it needs had started testing numbers";
  if (caller_came)
    return who + ", and one of them is the calling " +
           (plan.processes ? std::string("process") : std::string("thread")) +
           ", which waits at its number for workers it never starts (" + report.describe() +
           "): let the workers do the testing";
  return who + " (" + report.describe() + ", " + std::to_string(log.workers.size()) +
         " waiting for the others at their first number): the workers run one after the other;"
         " start them all before waiting for any";
}

}  // namespace detail

// Calls plan.function(plan.end, plan.workers) with a fresh work log, as
// described at the top of this file. Call it from the checking thread.
inline call_result watch(const call_plan& plan) {
  // A check judges the answer and the work log, not the time: is_prime
  // looks for divisors up to the square root instead of the lecture's n/2,
  // the same answers and log in far fewer divisions, so the checks are
  // done in a second after an edit. (The timing table keeps the lecture's
  // algorithm; it runs in a process of its own that never calls watch().)
  lab::set_divisor_bound(lab::divisor_bound::square_root);
  lab::work_log::start(static_cast<std::size_t>(std::max(plan.end, 0L)));
  if (plan.meet > 0) lab::work_log::meet(plan.meet);
  auto call = std::make_shared<detail::shared_call>();
  detail::child_endings& endings = detail::endings();
  const int returned_before = endings.returned.load(std::memory_order_relaxed);
  const int called_exit_before = endings.called_exit.load(std::memory_order_relaxed);
  std::thread runner([call, plan, &endings] {
    call->caller.store(gettid(), std::memory_order_relaxed);
    call->threads_before = lab::check::thread_count();
    try {
      call->primes = plan.function(plan.end, plan.workers);
    } catch (...) {
      call->error = std::current_exception();
    }
    if (getpid() != detail::checking_process) {  // a forked child that returned
      endings.returned.fetch_add(1, std::memory_order_relaxed);
      _exit(70);
    }
    call->log = lab::work_log::read();
    call->returned.store(true, std::memory_order_release);
  });

  call_result result;
  if (plan.meet > 0) {
    const auto meeting = lab::check::wait_for_progress(
        [&call] { return call->returned.load(std::memory_order_acquire) || lab::work_log::met(); },
        [] { return lab::work_log::calls_so_far(); }, plan.meeting_patience);
    result.met = lab::work_log::met();
    if (meeting.result == lab::check::wait_result::too_busy) {
      lab::check::undecided(meeting.describe());
      detail::leave(runner);
    }
    if (!result.met) {
      result.not_met = meeting.result == lab::check::wait_result::stuck
                           ? detail::describe_meeting(
                                 plan, call->caller.load(std::memory_order_relaxed), meeting)
                           : "it returned after only " +
                                 std::to_string(lab::work_log::workers_so_far()) + " of " +
                                 std::to_string(plan.meet) + " workers had tested a number";
      lab::work_log::release();
    }
  }

  auto report = detail::wait_for_return(*call);
  if (report.result == lab::check::wait_result::stuck) {
    const std::uint64_t tested = lab::work_log::calls_so_far();
    const auto children = detail::look_at_children();
    lab::check::collect_children();  // kills them: a parent blocked in waitpid() goes on
    std::string why = describe(plan) + ": it did not return: " + report.describe() + " after " +
                      std::to_string(tested) + " calls of lab::is_prime for " +
                      std::to_string(std::max(plan.end, 0L)) + " numbers";
    if (children.alive > 0) why += "; " + detail::describe_children(children);
    FAIL_CHECK(why);
    lab::work_log::release();
    report = detail::wait_for_return(*call);
    if (report.result == lab::check::wait_result::stuck) {
      const std::string still = describe(plan) + ": it still did not return: " + report.describe();
      FAIL_CHECK(still);
      detail::leave(runner);
    }
  }
  if (report.result == lab::check::wait_result::too_busy) {
    lab::check::undecided(report.describe());
    detail::leave(runner);
  }

  runner.join();
  if (call->error) std::rethrow_exception(call->error);
  result.primes = std::move(call->primes);
  result.log = std::move(call->log);
  result.caller = call->caller.load(std::memory_order_relaxed);
  result.threads_before = call->threads_before;
  // Relaxed: the children have ended (the call waited for them, or the
  // leftover check finds them), and their counting came before.
  result.children_returned = endings.returned.load(std::memory_order_relaxed) - returned_before;
  result.children_called_exit =
      endings.called_exit.load(std::memory_order_relaxed) - called_exit_before;
  return result;
}

}  // namespace watched
