// Exercise: primes                                   lesson: gil (`bin/lab lesson gil`)
//
// Goal: return every prime below `end`, in increasing order, using `workers`
// workers to test the numbers. calc_primes_*(50, 5) gives
//   2 3 5 7 11 13 17 19 23 29 31 37 41 43 47
//
// Test each number with lab::is_prime(n): it does the lecture's trial
// division "in the interpreter", holding the lab's GIL analogue, and it
// records who tested what, so the checks can see that your workers did the
// work. Three stages, as in the lecture:
//   1. calc_primes_threads    std::thread workers     (Python: threading.Thread)
//   2. calc_primes_pool       a lab::thread_pool       (multiprocessing.dummy.Pool)
//   3. calc_primes_processes  fork()ed worker processes sending their results
//                             back over pipes          (multiprocessing.Pool)
//
// The checks want: every number below `end` tested exactly once; the testing
// done by the workers, not by the calling thread; nothing (no thread, no
// child process) still running when the function returns.
//
// Run the checks:  bin/lab exercise primes            (or --stage 2)
// Stuck?           bin/lab hint primes
// Then compare 5 workers against 1 in the timing table. What do you notice?
#include <lab/primes.hpp>
#include <lab/thread_pool.hpp>
#include <lab/todo.hpp>

#include <thread>
#include <vector>

// Stage 1: std::thread workers.
std::vector<long> calc_primes_threads([[maybe_unused]] long end, [[maybe_unused]] int workers) {
  // TODO: start `workers` std::threads, give each a share of the numbers
  // below `end`, join them all, and return the primes in order.
  lab::todo("stage 1: start `workers` std::threads that test the numbers below end");
}

// Stage 2: a thread pool.
std::vector<long> calc_primes_pool([[maybe_unused]] long end, [[maybe_unused]] int workers) {
  // TODO: make a lab::thread_pool of `workers` threads, submit one task per
  // number, and collect the answers from the futures in order.
  lab::todo("stage 2: submit the numbers to a lab::thread_pool of `workers` threads");
}

// Stage 3: worker processes.
std::vector<long> calc_primes_processes([[maybe_unused]] long end, [[maybe_unused]] int workers) {
  // TODO: fork() `workers` children; each tests its share of the numbers and
  // writes the primes it found into a pipe, then calls _exit(0). The parent
  // reads every pipe, waits for every child, and returns the primes in order.
  lab::todo("stage 3: fork() `workers` processes that send their primes back over pipes");
}
