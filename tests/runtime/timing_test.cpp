#include "lab/timing.hpp"

#include <doctest/doctest.h>

TEST_CASE("the median of an even count is the mean of the middle two") {
  CHECK(lab::median_of({3.0, 1.0, 2.0}) == 2.0);
  CHECK(lab::median_of({4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(lab::median_of({}) == 0.0);
}

TEST_CASE("time_repeats runs once to warm up and then once per repeat") {
  int calls = 0;
  const auto samples = lab::time_repeats(3, [&] { ++calls; });
  CHECK(calls == 4);
  CHECK(samples.size() == 3);
  for (double seconds : samples) CHECK(seconds >= 0);
}
