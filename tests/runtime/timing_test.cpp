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

TEST_CASE("a percentile is the sample at its nearest rank whatever the order given") {
  std::vector<double> samples;
  for (int i = 100; i >= 1; --i) samples.push_back(i);  // 100 down to 1
  CHECK(lab::percentile_of(samples, 0.50) == 50);
  CHECK(lab::percentile_of(samples, 0.99) == 99);
  CHECK(lab::percentile_of(samples, 1.0) == 100);
  CHECK(lab::percentile_of(samples, 0.0) == 1);
  CHECK(lab::percentile_of({7}, 0.99) == 7);
  CHECK(lab::percentile_of({}, 0.5) == 0);
}
