#include "lab/primes.hpp"

#include <atomic>
#include <cmath>

#include "lab/gil.hpp"
#include "lab/protocol.hpp"
#include "lab/work_log.hpp"

namespace lab {
namespace {

// Settings are read by every worker on every call and written only before
// workers start, so relaxed ordering is enough: thread creation and fork()
// already order the write before the workers' reads.
std::atomic<code_mode> mode{code_mode::interpreted};
std::atomic<long> spacing{protocol::settings::spacing_default};
std::atomic<divisor_bound> bound{divisor_bound::half};

// The lecture's algorithm: n has no divisor d with 2 <= d <= last_trial_divisor(n).
// `pause` is called every `every` divisions (a safepoint, or nothing).
template <typename Pause>
bool trial_division(long n, long every, Pause pause) {
  if (n < 2) return false;  // 0 and 1 are not prime
  long until_pause = every;
  const long last = last_trial_divisor(n);
  for (long d = 2; d <= last; ++d) {
    if (n % d == 0) return false;
    if (--until_pause == 0) {
      pause();
      until_pause = every;
    }
  }
  return true;
}

}  // namespace

// The lecture's n/2, or the largest d with d*d <= n: a divisor above it
// pairs with one below it, so none is missed. Computed once per call, so in
// constant time: an even n is done after one division, and a loop to the
// root here would cost more than the test itself. (The double's root is
// corrected by a step either way, where rounding put it off by one.)
long last_trial_divisor(long n) {
  if (bound.load(std::memory_order_relaxed) == divisor_bound::half) return n / 2;
  if (n < 1) return 1;  // as for 1 to 3: no divisor from 2 on to try
  auto d = static_cast<long>(std::sqrt(static_cast<double>(n)));
  while (d * d > n) --d;
  while ((d + 1) * (d + 1) <= n) ++d;
  return d;
}

bool is_prime(long n) {
  work_log::record(n);
  const long every = spacing.load(std::memory_order_relaxed);
  if (mode.load(std::memory_order_relaxed) == code_mode::native) {
    gil_release native_code;  // a C extension letting other threads run
    return trial_division(n, every, [] {});
  }
  gil_hold interpreted_code;  // Python bytecode runs only under the GIL
  return trial_division(n, every, [] { gil::safepoint(); });
}

void set_is_prime_mode(code_mode new_mode) {
  mode.store(new_mode, std::memory_order_relaxed);
}
code_mode is_prime_mode() {
  return mode.load(std::memory_order_relaxed);
}

void set_divisor_bound(divisor_bound new_bound) {
  bound.store(new_bound, std::memory_order_relaxed);
}
divisor_bound current_divisor_bound() {
  return bound.load(std::memory_order_relaxed);
}

void set_safepoint_spacing(long divisions) {
  spacing.store(divisions < 1 ? 1 : divisions, std::memory_order_relaxed);
}
long safepoint_spacing() {
  return spacing.load(std::memory_order_relaxed);
}

}  // namespace lab
