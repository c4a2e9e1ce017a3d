// Demos of CPU-bound fib on threads and processes, and the dispatcher that
// forgot to join.
//
// lesson: threads-processes
//
//   fib.compare      fib for a list of inputs: on one thread, on threads under
//                    the GIL analogue, on fork()ed processes, and natively.
//   fib.forgot_join  a dispatcher that starts a thread per input and reads the
//                    clock without joining: "almost no time" and missing results.
#include <fmt/core.h>
#include <sys/wait.h>
#include <unistd.h>
#include <lab/gil.hpp>
#include <lab/timing.hpp>
#include <lab/unique_fd.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "demo.hpp"
#include "verdict.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

long fib(long n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}  // slow on purpose

// fib as "interpreted" code: a safepoint on every call, where the GIL can
// change hands (CPython checks between bytecodes).
// Precondition: the calling thread holds the GIL.
long interpreted_fib(long n) {
  gil::safepoint();
  return n < 2 ? n : interpreted_fib(n - 1) + interpreted_fib(n - 2);
}

// One way of computing fib for every input; fills `results` in input order.
using strategy = void (*)(const std::vector<long>& inputs, std::vector<long>& results);

void one_thread_native(const std::vector<long>& inputs, std::vector<long>& results) {
  for (std::size_t i = 0; i < inputs.size(); ++i) results[i] = fib(inputs[i]);
}

void one_thread_interpreted(const std::vector<long>& inputs, std::vector<long>& results) {
  gil_hold interpreted;
  for (std::size_t i = 0; i < inputs.size(); ++i) results[i] = interpreted_fib(inputs[i]);
}

// A thread per input; each writes only its own slot, and join() publishes it.
template <bool interpreted>
void thread_per_input(const std::vector<long>& inputs, std::vector<long>& results) {
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    workers.emplace_back([&inputs, &results, i] {
      if constexpr (interpreted) {
        gil_hold hold;  // one lock for the whole process: one thread computes at a time
        results[i] = interpreted_fib(inputs[i]);
      } else {
        results[i] = fib(inputs[i]);
      }
    });
  for (auto& worker : workers) worker.join();
}

// A fork()ed process per input, running the interpreted fib under its own,
// fresh GIL (a child gets its own lock: lab/gil.hpp). Each child sends its
// result back through a pipe, like multiprocessing does, and is waited for.
// Precondition: no other thread of this process is running (fork copies
// only the calling thread).
void process_per_input(const std::vector<long>& inputs, std::vector<long>& results) {
  std::vector<pid_t> children;
  std::vector<unique_fd> pipes;  // the read end of each child's pipe
  for (long n : inputs) {
    pipe_ends ends = make_pipe();  // close-on-exec; a forked child keeps both until it exits
    const pid_t child = fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) {
      long result = 0;
      {
        gil_hold interpreted;
        result = interpreted_fib(n);
      }
      const bool sent = write(ends.write.get(), &result, sizeof result) == sizeof result;
      _exit(sent ? 0 : 1);  // _exit: no atexit handlers or buffers of the parent's
    }
    children.push_back(child);
    pipes.push_back(std::move(ends.read));  // the write end closes here: the child holds its own
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (read(pipes[i].get(), &results[i], sizeof results[i]) != sizeof results[i]) results[i] = -1;
    pipes[i].reset();
    waitpid(children[i], nullptr, 0);
  }
}

// The lesson's claims about the speedups over one thread, by way.
// `one_interpreted` and `one_native` are the one-thread runs' seconds.
std::vector<claim> compare_claims(long count, double gil_threads, double processes,
                                  double native_threads, double one_interpreted, double one_native,
                                  const load_figures& machine) {
  const auto parallel = static_cast<unsigned>(count);
  const auto interpreted_too_short = too_short_cause(one_interpreted, "a larger n");
  return {
      {.figure = "a thread each under the GIL against one thread",
       .value = gil_threads,
       .direction = expect::at_most,
       .bound = no_speedup_bound,
       .lesson = "Threads that hold the GIL take turns, so they are no faster than one thread.",
       .known_cause = interpreted_too_short},
      {.figure = "a process each against one thread",
       .value = processes,
       .bound = speedup_bound(count, machine),
       .parallel = parallel,
       .lesson = "Processes each have their own GIL and run side by side, up to the number of\n"
                 "cores, paying for a fork and a pipe each.",
       .known_cause = interpreted_too_short},
      {.figure = "a native thread each against one thread",
       .value = native_threads,
       .bound = speedup_bound(count, machine),
       .parallel = parallel,
       .lesson = "Without the GIL, threads scale too.",
       .known_cause = too_short_cause(one_native, "a larger n")},
  };
}

int run_compare(const params& p) {
  const long n = p.number("n");
  const long count = p.number("inputs");
  const std::vector<long> inputs(static_cast<std::size_t>(count), n);
  const long expected = fib(n);
  struct way {
    const char* name;
    strategy run;
    const char* metric;  // for lab bench; nullptr for the baselines
  };
  const way interpreted_ways[] = {
      {"one thread", one_thread_interpreted, nullptr},
      {"a thread each (GIL)", thread_per_input<true>, "speedup_gil_threads"},
      {"a process each", process_per_input, "speedup_processes"}};
  const way native_ways[] = {{"one thread", one_thread_native, nullptr},
                             {"a thread each", thread_per_input<false>, "speedup_native_threads"}};
  const load_watch watch;
  fmt::print("{} x fib({}); median of 3 runs after a warm-up; this process may use {} cores\n",
             count, n, watch.figures().usable_cores);
  bool all_correct = true;
  std::map<std::string, double> speedups;    // by metric
  std::map<std::string, double> one_thread;  // the baseline's seconds, by table
  const auto table = [&](const std::string& title, const auto& ways) {
    fmt::print("\n{}\n{:>22} {:>10} {:>9}\n", title, "", "time", "speedup");
    double baseline = 0;
    for (const way& w : ways) {
      std::vector<long> results(inputs.size());
      const double seconds = median_of(time_repeats(3, [&] { w.run(inputs, results); }));
      for (long r : results) all_correct = all_correct && r == expected;
      if (baseline == 0) {
        baseline = seconds;
        one_thread[title] = seconds;
      }
      fmt::print("{:>22} {:>8.3f} s {:>8.2f}x\n", w.name, seconds, baseline / seconds);
      std::fflush(stdout);
      if (w.metric != nullptr) {
        report_metric(w.metric, baseline / seconds, "x");
        speedups[w.metric] = baseline / seconds;
      }
    }
  };
  const std::string interpreted_title =
      "interpreted (holding the GIL analogue, safepoint on every call):";
  const std::string native_title = "native (no GIL, like C code that releases it):";
  table(interpreted_title, interpreted_ways);
  table(native_title, native_ways);
  fmt::print("\nall {} results correct (fib({}) = {}): {}\n\n", count, n, expected,
             all_correct ? "yes" : "NO");
  if (count < 2) {
    fmt::print(
        "(No verdict: with one input there is nothing to run side by side. Try inputs=8.)\n");
    return all_correct ? 0 : 1;
  }
  const auto machine = watch.figures();
  fmt::print("{}", verdicts(compare_claims(
                                count, speedups["speedup_gil_threads"],
                                speedups["speedup_processes"], speedups["speedup_native_threads"],
                                one_thread[interpreted_title], one_thread[native_title], machine),
                            machine));
  return all_correct ? 0 : 1;
}

int run_forgot_join(const params& p) {
  const long n = p.number("n");
  const long inputs = p.number("inputs");
  const load_watch watch;
  claim missing;
  {
    std::vector<std::atomic<long>> results(static_cast<std::size_t>(inputs));
    const auto start = clock_type::now();
    std::vector<std::thread> threads;
    for (long i = 0; i < inputs; ++i)
      threads.emplace_back(
          [&results, i, n] { results[static_cast<std::size_t>(i)].store(fib(n)); });
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    long ready = 0;
    for (auto& r : results) ready += r.load() != 0 ? 1 : 0;
    fmt::print("broken: {} x fib({}) \"took\" {:.4f} s; results ready when it reported: {} of {}\n",
               inputs, n, elapsed, ready, inputs);
    for (auto& thread : threads) thread.join();  // the demo itself must not leave them running
    missing = {.figure = "results ready when the broken dispatcher read the clock",
               .value = static_cast<double>(ready),
               .direction = expect::at_most,
               .bound = static_cast<double>(inputs - 1),
               .unit = "",
               .timed = false,
               .lesson = "Without join() it read the clock while its threads were still computing.",
               .known_cause = fmt::format(
                   "fib({}) takes less time than starting a thread, so every thread was done "
                   "before the clock was read; try n=36",
                   n)};
  }
  {
    std::vector<long> results(static_cast<std::size_t>(inputs));
    const auto start = clock_type::now();
    std::vector<std::thread> threads;
    for (long i = 0; i < inputs; ++i)
      threads.emplace_back([&results, i, n] { results[static_cast<std::size_t>(i)] = fib(n); });
    for (auto& thread : threads) thread.join();  // the fix: wait for every one
    const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    fmt::print("fixed:  {} x fib({}) took {:.4f} s; results ready: {} of {} (fib({}) = {})\n",
               inputs, n, elapsed, inputs, inputs, n, results[0]);
  }
  const auto machine = watch.figures();
  fmt::print("\n{}", describe(missing, judge(missing, machine), machine));
  return 0;
}

// fib(n) costs about 1.6 times fib(n - 1). fib.compare computes every input
// 20 times (5 ways, 4 runs each), mostly "interpreted": 8 inputs of fib(36)
// take about 20 s of CPU, 32 of them over a minute. fib.forgot_join computes
// each input twice, natively: fib(42) is about a second. n starts at 1:
// fib(0) = 0 would look like a result not ready yet.
const registration fib_compare_demo{
    {.name = "fib.compare",
     .summary = "fib on threads under the GIL, on processes, and natively",
     .params = {param::number("n", 32, {1, 36}), param::number("inputs", 8, {1, 32})},
     .run = run_compare}};
const registration forgot_join_demo{
    {.name = "fib.forgot_join",
     .summary = "a dispatcher that forgets to join, and its fix",
     .params = {param::number("n", 32, {1, 42}), param::number("inputs", 4, {1, 32})},
     .run = run_forgot_join}};

}  // namespace
}  // namespace lab::demos
