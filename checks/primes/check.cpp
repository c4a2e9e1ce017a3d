// Hidden checks for the primes exercise (exercises/primes.cpp).
//
// The same checks run for every stage; the harness says which stage is under
// check (lab::check::stage()). Inputs come from the run's seed, which every
// failure message names, so `bin/lab exercise primes --seed S` replays a failure.
//
// Every call is watched (watched_call.hpp) and logged: whatever a check is
// about, the work log of each of its calls must show every number below end
// tested exactly once, by the workers. So an answer that was not computed
// fails at any size. Verdicts come from what was recorded, never from how
// long anything took.
#include <lab/check.hpp>
#include <lab/progress.hpp>
#include <lab/work_log.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "watched_call.hpp"

// The student's functions, as exercises/primes.cpp defines them.
std::vector<long> calc_primes_threads(long end, int workers);
std::vector<long> calc_primes_pool(long end, int workers);
std::vector<long> calc_primes_processes(long end, int workers);

namespace {

// "1 worker thread was" or "3 worker threads were", for messages.
std::string counted(std::size_t count, const std::string& one, const std::string& many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

watched::calc_primes_fn function_under_check() {
  switch (lab::check::stage()) {
    case 2:
      return calc_primes_pool;
    case 3:
      return calc_primes_processes;
    default:
      return calc_primes_threads;
  }
}

bool uses_processes() {
  return lab::check::stage() == 3;
}

std::string worker_unit() {
  return uses_processes() ? "child processes" : "worker threads";
}

std::string caller_unit() {
  return uses_processes() ? "calling process" : "calling thread";
}

// The reference answer, by the sieve of Eratosthenes.
std::vector<long> reference_primes(long end) {
  std::vector<char> composite(static_cast<std::size_t>(std::max(end, 0L)), 0);
  std::vector<long> primes;
  for (long n = 2; n < end; ++n) {
    if (composite[static_cast<std::size_t>(n)]) continue;
    primes.push_back(n);
    for (long m = n * n; m < end; m += n) composite[static_cast<std::size_t>(m)] = 1;
  }
  return primes;
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

watched::call_plan plan_for(long end, int workers) {
  watched::call_plan plan;
  plan.function = function_under_check();
  plan.end = end;
  plan.workers = workers;
  plan.processes = uses_processes();
  return plan;
}

// Did this worker of the log run in the caller (its thread, or for
// processes its process)?
bool is_caller(const lab::work_log::worker& worker, const watched::call_result& call) {
  return uses_processes() ? worker.pid == getpid() : worker.tid == call.caller;
}

// What is wrong with the work behind a call's answer, or "": numbers never
// tested or tested twice, numbers outside 0..end-1, the caller testing
// numbers itself, more workers than asked for.
std::string work_problems(const watched::call_plan& plan, const watched::call_result& call) {
  const auto& log = call.log;
  long never = 0, twice = 0, first_never = -1, first_twice = -1;
  for (long n = 0; n < plan.end; ++n) {
    const auto calls = log.calls_per_number[static_cast<std::size_t>(n)];
    if (calls == 0 && never++ == 0) first_never = n;
    if (calls > 1 && twice++ == 0) first_twice = n;
  }
  if (never > 0)
    return std::to_string(never) + " of the numbers below " + std::to_string(plan.end) +
           (never == 1 ? " was" : " were") +
           " never tested with lab::is_prime (the first: " + std::to_string(first_never) +
           "): test every number, and let lab::is_prime decide, even for small ends";
  if (twice > 0)
    return counted(static_cast<std::size_t>(twice), "number was", "numbers were") +
           " tested more than once (the first: " + std::to_string(first_twice) +
           "): give each number to one worker only";
  if (log.out_of_range > 0)
    return std::to_string(log.out_of_range) + " numbers outside 0.." +
           std::to_string(plan.end - 1) + " were tested";
  std::set<pid_t> workers;
  for (const auto& worker : log.workers) {
    if (is_caller(worker, call))
      return "the " + caller_unit() + " tested numbers itself; let the workers do it";
    workers.insert(uses_processes() ? worker.pid : worker.tid);
  }
  if (workers.size() > static_cast<std::size_t>(std::max(plan.workers, 1)))
    return "the numbers were tested by " + std::to_string(workers.size()) + " " + worker_unit() +
           ", more than the " + std::to_string(plan.workers) + " asked for";
  return "";
}

// Calls the stage's function, then checks its answer against the sieve and
// the work behind it against the log. `context` says which inputs, for the
// messages.
watched::call_result check_call(const watched::call_plan& plan, const std::string& context) {
  auto call = watched::watch(plan);
  const std::string wrong = lab::check::first_difference(reference_primes(plan.end), call.primes);
  CHECK_MESSAGE(wrong.empty(), context, ": the list of primes ", wrong);
  const std::string problems = work_problems(plan, call);
  CHECK_MESSAGE(problems.empty(), context, ": ", problems);
  const bool none_returned = call.children_returned == 0;
  CHECK_MESSAGE(
      none_returned, context, ": ",
      counted(static_cast<std::size_t>(call.children_returned), "child process", "child processes"),
      " returned from calc_primes_processes instead of ending with"
      " _exit(): a child that returns goes on running its parent's code (here, the"
      " checks)");
  const bool none_called_exit = call.children_called_exit == 0;
  CHECK_MESSAGE(none_called_exit, context, ": ",
                counted(static_cast<std::size_t>(call.children_called_exit), "child process",
                        "child processes"),
                " ended with exit() instead of _exit(): exit() runs the parent's"
                " atexit handlers and flushes its stdio buffers a second time");
  return call;
}

watched::call_result check_call(long end, int workers) {
  const auto plan = plan_for(end, workers);
  return check_call(plan, watched::describe(plan));
}

// Worker threads of this process that had not ended when the call returned,
// and how many of them turn out to have been detached. Waits for them to end
// (by evidence: a thread that never ends is one that was left running).
struct threads_left {
  int running_at_return = 0;
  int detached = 0;
};

threads_left worker_threads_left(const watched::call_result& call) {
  threads_left left;
  std::vector<pid_t> running;
  for (const auto& worker : call.log.workers)
    if (worker.pid == getpid() && worker.tid != call.caller && !worker.ended)
      running.push_back(worker.tid);
  left.running_at_return = static_cast<int>(running.size());
  // Now wait until they end, to learn whether they were detached.
  auto ended_now = [&running] {
    int ended = 0;
    for (const auto& worker : lab::work_log::read().workers)
      if (worker.ended && std::find(running.begin(), running.end(), worker.tid) != running.end())
        ++ended;
    return ended;
  };
  const auto report =
      lab::check::wait_for_progress([&] { return ended_now() == left.running_at_return; },
                                    [&] { return static_cast<std::uint64_t>(ended_now()); });
  if (report.result == lab::check::wait_result::too_busy) lab::check::undecided(report.describe());
  for (const auto& worker : lab::work_log::read().workers) {
    if (worker.pid != getpid() || worker.tid == call.caller) continue;
    if (worker.detached) ++left.detached;
  }
  return left;
}

// Waits until this process has no more threads than `baseline` (a thread
// that was joined may take a moment to leave /proc), judging by evidence:
// gives up once the count stood still while the threads had every chance
// to end. Returns how many are left over.
std::size_t threads_over(std::size_t baseline) {
  const auto report = lab::check::wait_for_progress(
      [baseline] { return lab::check::thread_count() <= baseline; },
      [] { return static_cast<std::uint64_t>(lab::check::thread_count()); });
  if (report.result == lab::check::wait_result::too_busy) lab::check::undecided(report.describe());
  const std::size_t now = lab::check::thread_count();
  return now > baseline ? now - baseline : 0;
}

}  // namespace

TEST_CASE("finds the primes below 50 with 5 workers") {
  check_call(50, 5);
}

TEST_CASE("finds no primes below 0 or 1 or 2 and just 2 below 3") {
  for (long end : {0L, 1L, 2L, 3L}) check_call(end, 3);
}

TEST_CASE("works with a single worker") {
  check_call(200, 1);
}

TEST_CASE("works with more workers than numbers") {
  for (long end : {2L, 3L, 5L}) check_call(end, 8);
}

TEST_CASE("matches a sieve for random ends up to 100000") {
  std::mt19937_64 random(lab::check::seed());
  const long big = lab::check::under_tsan() ? 3'000 : 100'000;
  std::vector<long> ends;
  for (int i = 0; i < 3; ++i) ends.push_back(std::uniform_int_distribution<long>(4, 5'000)(random));
  ends.push_back(std::uniform_int_distribution<long>(big / 2, big)(random));
  for (long end : ends) {
    const auto plan = plan_for(end, std::uniform_int_distribution<int>(2, 6)(random));
    check_call(plan, seed_note() + ": " + watched::describe(plan));
  }
}

// In stage 3 the end is 100000: the primes below it are 9592, 76 KiB of
// longs from the one child, more than a pipe holds (64 KiB). A parent that
// waits for its children before it reads their pipes never sees its child
// end. (The timing table runs exactly this: 100000 with 1 worker.) The
// thread stages have no pipe to fill, and a smaller end does.
TEST_CASE("finds the primes below a large end with a single worker") {
  check_call(uses_processes() ? 100'000 : 20'000, 1);
}

TEST_CASE("tests every number below end exactly once with lab::is_prime") {
  check_call(3'000, 4);
}

// Two workers must meet at their first number (watched_call.hpp), so that
// "both did some of the work" does not depend on how fast the machine
// starts the second one.
TEST_CASE("spreads the work over the workers instead of doing it in the caller") {
  auto plan = plan_for(20'000, 4);
  plan.meet = 2;
  const auto call = check_call(plan, watched::describe(plan));
  CHECK_MESSAGE(call.met, watched::describe(plan), ": the numbers were not spread over the ",
                worker_unit(), ": ", call.not_met);
}

// Every worker waits at its first number until all of them have started.
// Workers that run at the same time all get there; workers started one after
// the other (start, wait, start, wait) never do: the first waits alone.
TEST_CASE("runs every worker at the same time") {
  auto plan = plan_for(20'000, 4);
  plan.meet = plan.workers;
  const auto call = check_call(plan, watched::describe(plan));
  CHECK_MESSAGE(call.met, watched::describe(plan), ": ", call.not_met);
}

// The workers meet first (a short wait: this check does not judge it), so
// that every worker thread but the last is certainly detached, if it is
// ever detached, before it can end.
TEST_CASE("leaves no thread or child process running when it returns") {
  auto plan = plan_for(2'000, 5);
  plan.meet = plan.workers;
  plan.meeting_patience = std::chrono::seconds(2);
  const auto call = check_call(plan, watched::describe(plan));
  const auto children = lab::check::collect_children();
  const auto workers = worker_threads_left(call);
  const std::size_t extra_threads = threads_over(call.threads_before - 1);  // the caller has ended
  const std::string context = watched::describe(plan) + ": ";
  // Plain booleans, so that a failure shows only its message.
  const bool none_detached = workers.detached == 0;
  const bool none_running = workers.running_at_return == 0;
  const bool no_extra_threads = extra_threads == 0;
  const bool no_children = children.running + children.not_waited == 0;
  CHECK_MESSAGE(none_detached, context,
                counted(static_cast<std::size_t>(workers.detached), "worker thread was",
                        "worker threads were"),
                " detached: nobody can wait for a detached thread to end, so keep every"
                " std::thread and join() it before returning");
  CHECK_MESSAGE(none_running, context,
                counted(static_cast<std::size_t>(workers.running_at_return), "worker thread was",
                        "worker threads were"),
                " still running when it returned: join() every thread before returning");
  CHECK_MESSAGE(no_extra_threads, context, counted(extra_threads, "thread was", "threads were"),
                " still alive after it returned, and stayed alive: nothing may run once it"
                " returns");
  CHECK_MESSAGE(no_children, context,
                "child processes still running when it returned: ", children.running,
                "; finished but never waited for (zombies): ", children.not_waited,
                ": waitpid() every child before returning");
}

// What the timing table runs for each stage.
static const lab::check::timed time_stage_1{
    1, [](long end, int workers) { calc_primes_threads(end, workers); }};
static const lab::check::timed time_stage_2{
    2, [](long end, int workers) { calc_primes_pool(end, workers); }};
static const lab::check::timed time_stage_3{
    3, [](long end, int workers) { calc_primes_processes(end, workers); }};
