// Exercise: fib_dispatch             lesson: threads-processes (`bin/lab lesson threads-processes`)
//
// Goal: fix the dispatcher that forgot to join (lecture 003). A dispatcher
// computes fib(n) for every n in `inputs` at the same time, one worker per
// input, and returns the results in input order: dispatch({30, 10, 20}, fib)
// gives {832040, 55, 6765}. It also reports in `seconds` how long the whole
// job took, from before the first worker starts to after the last one ends.
//   1. dispatch_threads  a std::thread per input, joined   (threading.Thread + join)
//   2. dispatch_async    a std::async per input; the futures bring the results back
//
// Call the `fib` you are given (the checks pass one that records which thread
// computed what, and when). The checks want: every result, in input order;
// each input computed once, by a worker, not by the calling thread; the
// workers running at the same time; nothing still running when the function
// returns; and an elapsed time that covers every worker's run.
//
// As written, stage 1 is the lecture's broken dispatcher: it starts the
// threads, reads the clock at once and returns. Its time is too good to be
// true, and its results are never collected.
//
// Run the checks:  bin/lab exercise fib_dispatch     (or --stage 2)
// Stuck?           bin/lab hint fib_dispatch
// Compare:         bin/lab demo fib.forgot_join
#include <lab/todo.hpp>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

using fib_function = long (*)(long n);
using dispatch_clock = std::chrono::steady_clock;

// Stage 1: a std::thread per input.
std::vector<long> dispatch_threads(const std::vector<long>& inputs, fib_function fib,
                                   double& seconds) {
  std::vector<long> results(inputs.size());  // TODO: fill in results[i] = fib(inputs[i])
  const auto start = dispatch_clock::now();
  for (long n : inputs) {
    // TODO: nobody waits for this thread, and the answer it computes is
    // thrown away. Keep the threads, let each write its own slot of results,
    // and join them all before reading the clock.
    std::thread([fib, n] { fib(n); }).detach();
  }
  seconds = std::chrono::duration<double>(dispatch_clock::now() - start).count();
  return results;
}

// Stage 2: a std::async per input.
std::vector<long> dispatch_async([[maybe_unused]] const std::vector<long>& inputs,
                                 [[maybe_unused]] fib_function fib, double& seconds) {
  seconds = 0;
  // TODO: start one std::async task per input, keep the std::futures in input
  // order, then get() each result. Make sure every task runs on its own thread.
  lab::todo("stage 2: start a std::async task per input and get() the results in order");
}
