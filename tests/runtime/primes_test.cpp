#include "lab/primes.hpp"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "lab/gil.hpp"
#include "lab/work_log.hpp"

namespace {

// Restores interpreted mode after a test that changes it.
struct mode_guard {
  ~mode_guard() { lab::set_is_prime_mode(lab::code_mode::interpreted); }
};

}  // namespace

TEST_CASE("is_prime agrees with the definition for the first thousand numbers") {
  for (long n = 0; n < 1000; ++n) {
    bool expected = n >= 2;
    for (long d = 2; d * d <= n && expected; ++d) expected = n % d != 0;
    INFO("n = ", n);
    CHECK(lab::is_prime(n) == expected);
  }
}

TEST_CASE("is_prime tries divisors up to n/2 unless told to stop at the square root") {
  struct bound_guard {
    ~bound_guard() { lab::set_divisor_bound(lab::divisor_bound::half); }
  } restore;
  CHECK(lab::current_divisor_bound() == lab::divisor_bound::half);
  CHECK(lab::last_trial_divisor(100'000) == 50'000);
  lab::set_divisor_bound(lab::divisor_bound::square_root);
  CHECK(lab::last_trial_divisor(100'000) == 316);
  CHECK(lab::last_trial_divisor(10'201) == 101);  // 101 squared: its divisor is tried
  CHECK(lab::last_trial_divisor(10'200) == 100);
  CHECK(lab::last_trial_divisor(3) == 1);
}

TEST_CASE("is_prime with the square-root bound agrees with the definition and with squares of primes") {
  struct bound_guard {
    ~bound_guard() { lab::set_divisor_bound(lab::divisor_bound::half); }
  } restore;
  lab::set_divisor_bound(lab::divisor_bound::square_root);
  for (long n = 0; n < 20'000; ++n) {
    bool expected = n >= 2;
    for (long d = 2; d < n && expected; ++d) expected = n % d != 0;
    INFO("n = ", n);
    REQUIRE(lab::is_prime(n) == expected);
  }
  for (long p : {101L, 1'009L, 10'007L}) CHECK_FALSE(lab::is_prime(p * p));
}

TEST_CASE("is_prime gives the same answers in native mode") {
  mode_guard restore;
  lab::set_is_prime_mode(lab::code_mode::native);
  CHECK(lab::is_prime(7919));
  CHECK_FALSE(lab::is_prime(7917));
  CHECK_FALSE(lab::is_prime(1));
}

TEST_CASE("interpreted is_prime takes the GIL and native is_prime does not") {
  mode_guard restore;
  lab::gil::reset_stats();
  lab::is_prime(101);
  CHECK(lab::gil::get_stats().acquisitions == 1);
  lab::set_is_prime_mode(lab::code_mode::native);
  lab::is_prime(101);
  CHECK(lab::gil::get_stats().acquisitions == 1);
}

TEST_CASE("is_prime leaves the GIL as it found it") {
  CHECK_FALSE(lab::gil::held());
  lab::is_prime(97);
  CHECK_FALSE(lab::gil::held());
  {
    lab::gil_hold hold;
    lab::is_prime(97);
    CHECK(lab::gil::held());
  }
}

TEST_CASE("threads calling interpreted is_prime take turns at the safepoints") {
  lab::gil::reset_stats();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([] {
      for (long n = 50'000; n < 50'400; ++n) lab::is_prime(n);
    });
  for (auto& thread : threads) thread.join();
  const auto stats = lab::gil::get_stats();
  CHECK(stats.acquisitions >= 800);  // at least one per call
  MESSAGE("drop requests: ", stats.drop_requests, ", forced switches: ", stats.forced_switches);
}

TEST_CASE("is_prime records each call in the work log") {
  lab::work_log::start(10);
  for (long n = 0; n < 10; ++n) lab::is_prime(n);
  lab::is_prime(3);
  lab::is_prime(42);
  const auto log = lab::work_log::read();
  lab::work_log::stop();
  CHECK(log.calls_per_number[3] == 2);
  CHECK(log.calls_per_number[9] == 1);
  CHECK(log.out_of_range == 1);
}
