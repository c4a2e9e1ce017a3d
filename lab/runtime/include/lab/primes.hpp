// is_prime: the primes exercise's unit of work, done "in the interpreter".
//
// lesson: gil
//
// is_prime(n) uses the lecture's trial division (every d from 2 to n/2). In
// the default, interpreted mode it runs the way CPython runs Python code: it
// holds the GIL analogue (lab/gil.hpp) and passes a safepoint every few
// divisions, where it lets a waiting thread have its turn. So several threads
// calling it take turns instead of running in parallel, exactly like Python
// threads doing CPU-bound work. In native mode it releases the GIL around the
// loop, like a C extension that calls Py_BEGIN_ALLOW_THREADS, and threads
// really run in parallel.
//
// Every call is recorded in the work log (lab/work_log.hpp) so that the
// checks can see which numbers were tested and by which thread or process.
#pragma once

namespace lab {

enum class code_mode {
  interpreted,  // holds the GIL, with safepoints
  native,       // releases the GIL: real parallelism
};

// True if n is prime. Safe to call from any thread or forked process.
bool is_prime(long n);

// The mode is process-wide; set it before starting workers.
void set_is_prime_mode(code_mode mode);
code_mode is_prime_mode();

// How far is_prime looks for a divisor. The lecture's n/2 is the default:
// it is the CPU-bound work the timing table and the demos time. The square
// root gives the same answers and the same work log in a small fraction of
// the divisions (for n = 100,000: 316 instead of 50,000); the primes checks
// use it, since they judge what was computed and by whom, never how long it
// took, and a student waits for them after every edit.
enum class divisor_bound {
  half,         // every d from 2 to n/2: the lecture's algorithm
  square_root,  // every d with d*d <= n
};

// Process-wide, like the mode; set it before starting workers.
void set_divisor_bound(divisor_bound bound);
divisor_bound current_divisor_bound();

// The largest divisor is_prime(n) tries under the current bound.
long last_trial_divisor(long n);

// How many divisions is_prime does between two safepoints (default 64).
// Fewer means the GIL changes hands closer to the moment it is asked for.
void set_safepoint_spacing(long divisions);
long safepoint_spacing();

}  // namespace lab
