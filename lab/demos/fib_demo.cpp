// Demos of CPU-bound fib on threads and the dispatcher that forgot to join.
//
// lesson: threads-processes
//
//   fib.forgot_join  a dispatcher that starts a thread per input and reads the
//                    clock without joining: "almost no time" and missing results.
#include <fmt/core.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "demo.hpp"

namespace lab::demos {
namespace {

using clock_type = std::chrono::steady_clock;

long fib(long n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}  // slow on purpose

int run_forgot_join(const params& p) {
  const long n = p.number("n", 32);
  const long inputs = p.number("inputs", 4);
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
  return 0;
}

const registration forgot_join_demo{{"fib.forgot_join",
                                     "a dispatcher that forgets to join, and its fix",
                                     "n=N inputs=N", run_forgot_join}};

}  // namespace
}  // namespace lab::demos
