// How the stepper shows a model and a world as text, the same in the REPL,
// on the command line and in the race.stepper demo.
#pragma once

#include <string>

#include "explore.hpp"
#include "machine.hpp"

namespace lab::stepper {

// The program each thread runs, numbered: "  1  tmp = n\n  2 ...".
std::string show_program(const model& m);

// The shared variables and each thread's locals and next step:
//   shared: n = 1
//   A  tmp = 1   done
//   B  tmp = 0   next: n = tmp
std::string show_world(const model& m, const world& w);

// One line for a step just taken: "B: tmp = tmp + 1   (tmp is now 1)".
std::string show_step(const model& m, const world& before, const world& after, int thread);

// The explore table: each outcome, how many interleavings, an example.
std::string show_exploration(const model& m, int threads, const exploration& e);

}  // namespace lab::stepper
