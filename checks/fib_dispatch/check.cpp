// Hidden checks for the fib_dispatch exercise (exercises/fib_dispatch.cpp).
//
// Stage 1 checks dispatch_threads, stage 2 dispatch_async. The dispatcher is
// given a fib that records who computed which input, when (by the steady
// clock), and when each worker thread ended (watched_dispatch.hpp), so the
// checks verify orderings, never speeds: every result in order, each input
// computed once by a worker, every worker ended (not detached) by the time
// the dispatcher returned, an elapsed time that spans every worker's run,
// and the workers all started before any of them finished (they meet).
// Inputs come from the run's seed, which failures name.
#include <lab/check.hpp>
#include <lab/progress.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "watched_dispatch.hpp"

std::vector<long> dispatch_threads(const std::vector<long>& inputs, fib_function fib,
                                   double& seconds);
std::vector<long> dispatch_async(const std::vector<long>& inputs, fib_function fib,
                                 double& seconds);

namespace {

// "1 worker thread was" or "3 worker threads were", for messages.
std::string counted(std::size_t count, const std::string& one, const std::string& many) {
  return std::to_string(count) + " " + (count == 1 ? one : many);
}

using watched::recorded_fib;

watched::dispatcher dispatcher_under_check() {
  return lab::check::stage() == 2 ? dispatch_async : dispatch_threads;
}

// The reference answer, computed the fast way.
long reference_fib(long n) {
  long a = 0, b = 1;
  for (long i = 0; i < n; ++i) b = std::exchange(a, b) + b;
  return a;
}

std::vector<long> reference(const std::vector<long>& inputs) {
  std::vector<long> results;
  for (long n : inputs) results.push_back(reference_fib(n));
  return results;
}

// Inputs big enough that a worker is still busy when a dispatcher that does
// not wait returns: fib(30) is about 1.6 million calls. Smaller under
// ThreadSanitizer, which makes every call slower.
std::vector<long> busy_inputs() {
  if (lab::check::under_tsan()) return {22, 25, 24, 23};
  return {27, 30, 29, 28};
}

std::string seed_note() {
  return "seed " + std::to_string(lab::check::seed());
}

// Each check that calls the dispatcher names its own generation (see
// watched_dispatch.hpp), so that workers left running by an earlier check
// record nothing here.
template <int Generation>
watched::call_plan plan_for(std::vector<long> inputs) {
  watched::call_plan plan;
  plan.function = dispatcher_under_check();
  plan.inputs = std::move(inputs);
  plan.fib = recorded_fib<Generation>;
  plan.generation = Generation;
  return plan;
}

// Calls the dispatcher and checks its results against the reference.
watched::call_result check_results(const watched::call_plan& plan, const std::string& context) {
  auto call = watched::watch(plan);
  const std::string wrong = lab::check::first_difference(reference(plan.inputs), call.results);
  CHECK_MESSAGE(wrong.empty(), context, ": the list of results ", wrong);
  return call;
}

// Worker threads (threads that computed fib, but the caller) that had not
// ended when the dispatcher returned, and how many of them turn out to have
// been detached. Waits for them to end, by evidence: one that never ends was
// left running.
struct workers_left {
  int running_at_return = 0;
  int detached = 0;
};

workers_left worker_threads_left(const watched::call_result& call) {
  std::vector<std::thread::id> workers;
  for (const auto& record : call.records)
    if (record.thread != call.caller &&
        std::find(workers.begin(), workers.end(), record.thread) == workers.end())
      workers.push_back(record.thread);
  auto ended = [&workers](const std::vector<watched::thread_end>& ends) {
    int count = 0;
    for (auto thread : workers)
      count += std::any_of(ends.begin(), ends.end(), [thread](const watched::thread_end& end) {
        return end.thread == thread;
      });
    return count;
  };
  workers_left left;
  left.running_at_return = static_cast<int>(workers.size()) - ended(call.ends);
  const auto report = lab::check::wait_for_progress(
      [&] { return ended(watched::recorder.ends()) == static_cast<int>(workers.size()); },
      [] { return watched::recorder.events(); });
  if (report.result == lab::check::wait_result::too_busy) lab::check::undecided(report.describe());
  for (const auto& end : watched::recorder.ends())
    if (end.detached && std::find(workers.begin(), workers.end(), end.thread) != workers.end())
      ++left.detached;
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

TEST_CASE("computes fib for a single input") {
  check_results(plan_for<0>({10}), "input 10");
}

TEST_CASE("returns no results for no inputs") {
  check_results(plan_for<6>({}), "no inputs");
}

TEST_CASE("returns every result in input order") {
  std::mt19937_64 random(lab::check::seed());
  const long largest = lab::check::under_tsan() ? 22 : 27;
  for (int round = 0; round < 4; ++round) {
    std::vector<long> inputs(std::uniform_int_distribution<std::size_t>(2, 8)(random));
    for (auto& n : inputs) n = std::uniform_int_distribution<long>(0, largest)(random);
    check_results(plan_for<7>(inputs), seed_note() + ": " + watched::describe(inputs));
  }
}

TEST_CASE("computes each input once in a worker thread and not in the caller") {
  const auto plan = plan_for<1>({18, 20, 19, 21, 20});
  const auto call = check_results(plan, watched::describe(plan.inputs));
  std::vector<long> computed;
  bool caller_worked = false;
  for (const auto& record : call.records) {
    computed.push_back(record.input);
    caller_worked |= record.thread == call.caller;
  }
  std::sort(computed.begin(), computed.end());
  const std::string wrong = lab::check::first_difference({18, 19, 20, 20, 21}, computed);
  CHECK_MESSAGE(wrong.empty(), watched::describe(plan.inputs),
                ": the sorted list of inputs computed by the time it returned ", wrong);
  CHECK_MESSAGE(!caller_worked, watched::describe(plan.inputs),
                ": the calling thread computed fib itself; let the workers do it");
}

TEST_CASE("returns only after every worker has finished") {
  const auto plan = plan_for<2>(busy_inputs());
  const auto call = check_results(plan, watched::describe(plan.inputs));
  const bool all_finished = call.records.size() == plan.inputs.size();
  CHECK_MESSAGE(all_finished, watched::describe(plan.inputs), ": ", call.records.size(), " of ",
                plan.inputs.size(), " workers had finished when it returned");
  const bool finished_before_return = std::all_of(
      call.records.begin(), call.records.end(),
      [&call](const watched::work_record& record) { return record.finished <= call.returned; });
  CHECK_MESSAGE(finished_before_return, watched::describe(plan.inputs),
                ": a worker finished after it returned");
}

// The lecture's symptom: an elapsed time "too good to be true". It must span
// from before the first worker started to after the last one finished.
TEST_CASE("reports an elapsed time that covers every worker from start to finish") {
  const auto plan = plan_for<3>(busy_inputs());
  const auto call = check_results(plan, watched::describe(plan.inputs));
  REQUIRE_MESSAGE(!call.records.empty(), watched::describe(plan.inputs),
                  ": no worker had finished when the dispatcher returned");
  auto first_start = call.records.front().started;
  auto last_finish = call.records.front().finished;
  for (const auto& record : call.records) {
    first_start = std::min(first_start, record.started);
    last_finish = std::max(last_finish, record.finished);
  }
  const double workers_span = std::chrono::duration<double>(last_finish - first_start).count();
  const bool all_finished = call.records.size() == plan.inputs.size();
  const bool covers = call.seconds >= workers_span;
  CHECK_MESSAGE(all_finished, watched::describe(plan.inputs), ": ", call.records.size(), " of ",
                plan.inputs.size(), " workers had finished when it returned");
  CHECK_MESSAGE(covers, watched::describe(plan.inputs), ": it reported ", call.seconds,
                " s, but the workers ran from the first start to the last finish for ",
                workers_span,
                " s: read the clock before the first worker starts and after the"
                " last one is joined");
}

// The calls of fib meet first (a short wait: this check does not judge it),
// so that every worker thread but the last is certainly detached, if it is
// ever detached, before it can end.
TEST_CASE("leaves no thread running when it returns") {
  auto plan = plan_for<4>({20, 21, 22, 23});
  plan.meet = static_cast<int>(plan.inputs.size());
  plan.meeting_patience = std::chrono::seconds(2);
  const auto call = check_results(plan, watched::describe(plan.inputs));
  const auto workers = worker_threads_left(call);
  const std::size_t extra_threads = threads_over(call.threads_before - 1);  // the caller has ended
  const std::string context = watched::describe(plan.inputs) + ": ";
  // Plain booleans, so that a failure shows only its message.
  const bool none_detached = workers.detached == 0;
  const bool none_running = workers.running_at_return == 0;
  const bool no_extra_threads = extra_threads == 0;
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
}

// Every call of fib waits until all of them have started. Workers that run
// at the same time all get there; workers run one after the other (start,
// join, start, join) never do: the first waits alone.
TEST_CASE("runs the workers at the same time") {
  auto plan = plan_for<5>({15, 16, 17, 18, 19, 20});
  plan.meet = static_cast<int>(plan.inputs.size());
  const auto call = check_results(plan, watched::describe(plan.inputs));
  CHECK_MESSAGE(call.met, watched::describe(plan.inputs), ": ", call.not_met);
}
