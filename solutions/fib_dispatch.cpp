// Solution: fib_dispatch             lesson: threads-processes (`bin/lab lesson threads-processes`)
//
// The dispatcher that forgot to join, fixed twice (lesson: threads-processes,
// slides 13 and 14). The bug was not in starting the threads but in not
// waiting for them: the clock was read, and the results were read, while the
// work was still going on.
//
// Stage 2 uses std::async rather than fork()ed processes: the primes
// exercise already sends results back from child processes over pipes, and a
// future shows the other half of this lesson's fix in one object: get() waits
// for the worker (the join) and hands over its result (the collecting).
#include <chrono>
#include <future>
#include <thread>
#include <vector>

using fib_function = long (*)(long n);
using dispatch_clock = std::chrono::steady_clock;

// Stage 1: a std::thread per input, each writing its own slot of `results`.
std::vector<long> dispatch_threads(const std::vector<long>& inputs, fib_function fib,
                                   double& seconds) {
  // One slot per input, made before any thread starts and never resized:
  // no two threads write the same element, so the slots need no lock.
  std::vector<long> results(inputs.size());
  const auto start = dispatch_clock::now();  // before the first worker starts
  std::vector<std::thread> workers;
  workers.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i)
    workers.emplace_back([&results, &inputs, fib, i] { results[i] = fib(inputs[i]); });
  // join() waits until the thread has ended, and makes everything it wrote
  // visible to this thread: after the loop, every slot holds its answer.
  for (auto& worker : workers) worker.join();
  seconds = std::chrono::duration<double>(dispatch_clock::now() - start).count();
  return results;
}

// Stage 2: a std::async task per input; the futures bring the results back.
std::vector<long> dispatch_async(const std::vector<long>& inputs, fib_function fib,
                                 double& seconds) {
  const auto start = dispatch_clock::now();
  // std::launch::async: each task gets its own thread now. Without it, the
  // library may defer the task and run it in get(), in this thread, one after
  // the other.
  std::vector<std::future<long>> futures;
  futures.reserve(inputs.size());
  for (long n : inputs) futures.push_back(std::async(std::launch::async, fib, n));
  // Start them all first, then wait: calling get() inside the loop above
  // would wait for each task before starting the next. (So would dropping
  // the future: the destructor of a std::async future waits for its task.)
  std::vector<long> results;
  results.reserve(inputs.size());
  for (auto& future : futures) results.push_back(future.get());  // waits, then hands over
  seconds = std::chrono::duration<double>(dispatch_clock::now() - start).count();
  return results;
}
