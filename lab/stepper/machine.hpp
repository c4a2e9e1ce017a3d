// Running a model one atomic step at a time: the state of the world after
// each step, which threads may move, replaying a schedule, and the outcome.
//
// lesson: races
//
// A schedule is the string of thread letters in the order they stepped:
// "ABABAB" means A, then B, then A... Replaying it gives the same world
// every time: the model has no other source of non-determinism.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model.hpp"

namespace lab::stepper {

struct world {
  std::map<std::string, long> shared;
  std::vector<std::map<std::string, long>> locals;  // one per thread
  std::vector<std::size_t> next;                    // each thread's next step
};

// The world before any step, with `threads` threads.
world initial_world(const model& m, int threads);

// 'A' for thread 0, 'B' for 1, ...; -1 for a letter that names no thread.
char thread_letter(int thread);
int thread_of(char letter, int threads);

bool finished(const model& m, const world& w, int thread);
bool all_finished(const model& m, const world& w);

// May `thread` take its next step now? Not if it is finished, or if its
// next step is `lock m` while m is held.
bool can_step(const model& m, const world& w, int thread);

// The world after `thread` takes its next step. Precondition: can_step.
world take_step(const model& m, const world& w, int thread);

// The value of an expression, reading `thread`'s locals first.
long evaluate(const expr& e, const world& w, int thread, int threads);

// The outcome once every thread has finished: the model's outcome text
// filled in ("n = 1"), and whether it is the bad one.
std::string outcome_text(const model& m, const world& w);
bool is_bad(const model& m, const world& w);

// Replays a schedule from the start. On a letter that names no thread, or a
// thread that cannot step, stops and sets `error` ("step 3: B has finished").
world replay(const model& m, int threads, const std::string& schedule, std::string& error);

}  // namespace lab::stepper
