// Timing the way the lab reports it: one warm-up run (caches, page faults,
// lazy binding), then `repeats` timed runs; the median resists outliers
// from whatever else the machine is doing.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <vector>

namespace lab {

// Runs f once untimed, then `repeats` times timed; returns the seconds of each.
template <typename F>
std::vector<double> time_repeats(int repeats, F f) {
  f();
  std::vector<double> samples;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    samples.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return samples;
}

// The median (the mean of the middle two for an even count); 0 for none.
inline double median_of(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const std::size_t middle = samples.size() / 2;
  return samples.size() % 2 == 1 ? samples[middle] : (samples[middle - 1] + samples[middle]) / 2;
}

// The value below which `fraction` of the samples lie (nearest rank: an
// actual sample, never an interpolation); 0 for none.
inline double percentile_of(std::vector<double> samples, double fraction) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const auto rank =
      static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(samples.size())));
  return samples[std::min(samples.size(), std::max<std::size_t>(rank, 1)) - 1];
}

// Runs measure() once to warm up, then `repeats` times; the median of the
// figures it returned (a measure that times itself: ns per switch, say).
template <typename F>
double median_after_warmup(int repeats, F measure) {
  measure();
  std::vector<double> figures;
  for (int i = 0; i < repeats; ++i) figures.push_back(measure());
  return median_of(figures);
}

}  // namespace lab
