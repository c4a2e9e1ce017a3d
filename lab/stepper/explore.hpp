// Explore mode: every interleaving of a model's threads, and how many of
// them end in each outcome. This is what the scheduler could do; the race
// stepper lets the student pick one of them by hand.
//
// lesson: races
#pragma once

#include <string>
#include <vector>

#include "model.hpp"

namespace lab::stepper {

struct outcome_count {
  std::string text;     // "n = 1"
  bool bad = false;     // the model's bad outcome
  bool stuck = false;   // no thread could move: a deadlock
  long count = 0;       // interleavings that end here
  std::string example;  // the first such schedule found, e.g. "AABBAB"
};

struct exploration {
  long interleavings = 0;
  std::vector<outcome_count> outcomes;  // in the order first found
};

// Visits every schedule (depth first, A before B). Precondition: the number
// of interleavings is small (the models have at most a few dozen steps).
exploration explore(const model& m, int threads);

}  // namespace lab::stepper
