// Demos of generator-like coroutines (lab/generator.hpp).
//
// lesson: coroutines
//
//   coro.round_robin  two counting generators, coro1 and coro2, resumed in
//                     turn by a loop: the simplest cooperative scheduler.
//   coro.generator    laziness made visible: what runs when, with timestamps.
#include <fmt/core.h>
#include <lab/generator.hpp>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "demo.hpp"

namespace lab::demos {
namespace {

// One line a coroutine printed, kept so that the demo can check the order.
struct printed {
  std::string name;
  int count;
};

// Counts forever: prints its name and its count, then gives the CPU back
// (co_yield) until the scheduler resumes it. `count` is a local: it lives in
// the coroutine's frame between turns, as a Python generator's locals do.
lab::generator<int> my_coro(std::string name, std::vector<printed>& log) {
  for (int count = 1;; ++count) {
    fmt::print("{} {}\n", name, count);
    log.push_back({name, count});
    co_yield count;
  }
}

// The "scheduler" of the lecture: cycle through the coroutines, resuming
// each in turn. A generator runs only when it is stepped, so whoever steps
// them decides the order; nothing preempts anything.
void run_round_robin(std::vector<lab::generator<int>>& coros, int rounds) {
  std::vector<lab::generator<int>::iterator> at(coros.size());
  for (int round = 0; round < rounds; ++round)
    for (std::size_t i = 0; i < coros.size(); ++i) {
      if (round == 0)
        at[i] = coros[i].begin();  // the first step: runs the body up to its first co_yield
      else
        ++at[i];  // every later step: from that co_yield to the next one
    }
}

int round_robin(const params& p) {
  const int rounds = static_cast<int>(p.number("rounds"));
  std::vector<printed> log;
  std::vector<lab::generator<int>> coros;
  coros.push_back(my_coro("coro1", log));
  coros.push_back(my_coro("coro2", log));
  fmt::print("Two coroutines made; neither has printed anything yet ({} lines so far).\n",
             log.size());
  fmt::print("Resuming them in turn, {} rounds:\n\n", rounds);
  run_round_robin(coros, rounds);

  // The claim of the slide, checked on what was printed: strict alternation,
  // each coroutine counting on from where it stopped.
  bool alternates = log.size() == static_cast<std::size_t>(2 * rounds);
  for (std::size_t i = 0; alternates && i < log.size(); ++i)
    alternates = log[i].name == (i % 2 == 0 ? "coro1" : "coro2") &&
                 log[i].count == static_cast<int>(i / 2) + 1;
  fmt::print("\n");
  if (alternates)
    fmt::print(
        "{} lines, strictly alternating, each coroutine counting on from its own last value:\n"
        "its local `count` survived every suspension in its frame. The loop, not the\n"
        "coroutines, chose the order; here the loop stopped them after {} rounds (the two\n"
        "frames are freed with their generators).\n",
        log.size(), rounds);
  else
    fmt::print("The lines did not alternate as expected ({} lines): this is a bug in the lab.\n",
               log.size());
  return alternates ? 0 : 1;
}

using clock_type = std::chrono::steady_clock;

// Prints one event with the time since the demo started, indented by who
// printed it (the consumer at the margin, the generator's body further in).
class timeline {
 public:
  void say(bool body, const std::string& what) {
    const auto since = std::chrono::duration<double, std::micro>(clock_type::now() - start_);
    fmt::print("{:>9.1f} µs  {}{}\n", since.count(), body ? "    body: " : "consumer: ", what);
    if (body) ++body_lines_;
  }
  int body_lines() const { return body_lines_; }

 private:
  clock_type::time_point start_ = clock_type::now();
  int body_lines_ = 0;
};

// Squares of 1..n, computed one at a time, only when asked for.
lab::generator<long> squares(int n, timeline& t) {
  t.say(true, "starts running");
  for (long i = 1; i <= n; ++i) {
    t.say(true, fmt::format("computes {}² and yields it", i));
    co_yield i * i;
    t.say(true, fmt::format("resumed after yielding {}", i * i));
  }
  t.say(true, "reaches its end");
}

int lazy_generator(const params& p) {
  const int n = static_cast<int>(p.number("n"));
  timeline t;
  auto numbers = squares(n, t);
  t.say(false, fmt::format("called squares({}); got a generator back", n));
  const int before_first_step = t.body_lines();
  t.say(false, "asks for the first element (begin())");
  auto it = numbers.begin();
  int steps = 1;
  while (it != numbers.end()) {
    t.say(false, fmt::format("got {}", *it));
    t.say(false, "asks for the next one (++it)");
    ++it;
    ++steps;
  }
  t.say(false, "sees the end");
  fmt::print("\n");
  const bool lazy = before_first_step == 0;
  const int expected_body_lines = 2 + 2 * n;  // start, end, and two per element
  if (lazy && t.body_lines() == expected_body_lines)
    fmt::print(
        "The body printed nothing until the first step: calling squares() only made its frame.\n"
        "Each of the {} steps ran the body from one co_yield to the next, then came back here.\n",
        steps);
  else
    fmt::print("Unexpected: the body printed {} lines before the first step and {} in all: this "
               "is a bug in the lab.\n",
               before_first_step, t.body_lines());
  return lazy ? 0 : 1;
}

const registration round_robin_demo{
    {.name = "coro.round_robin",
     .summary = "two counting generators resumed in turn by a loop: coro1 1, coro2 1, ...",
     .params = {param::number("rounds", 4, {1, 1000})},
     .run = round_robin}};
const registration generator_demo{
    {.name = "coro.generator",
     .summary = "a generator is lazy: each step runs its body to the next co_yield",
     .params = {param::number("n", 3, {0, 100})},
     .run = lazy_generator}};

}  // namespace
}  // namespace lab::demos
