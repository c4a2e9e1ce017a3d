// The race stepper as a demo: every interleaving of a racing program's
// atomic steps, counted by outcome, then one bad interleaving replayed step
// by step. To play the scheduler yourself: `lab step NAME` (or `step NAME`
// in the REPL).
//
// lesson: races
//
//   race.stepper  program=counter|counter_locked|bank threads=N schedule=ABAB...
#include <fmt/core.h>

#include <cstdlib>
#include <explore.hpp>
#include <lab/protocol.hpp>
#include <machine.hpp>
#include <view.hpp>

#include "demo.hpp"

namespace lab::demos {
namespace {

// Prints the world after each step of `schedule`.
void show_replay(const stepper::model& m, int threads, const std::string& schedule) {
  stepper::world w = stepper::initial_world(m, threads);
  for (char letter : schedule) {
    const int t = stepper::thread_of(letter, threads);
    const stepper::world after = stepper::take_step(m, w, t);
    fmt::print("  {}\n", stepper::show_step(m, w, after, t));
    w = after;
  }
  fmt::print("{}", stepper::show_world(m, w));
  if (stepper::all_finished(m, w))
    fmt::print("outcome: {}{}\n", stepper::outcome_text(m, w),
               stepper::is_bad(m, w) ? "  <- " + m.bad : "");
}

int run_stepper(const params& p) {
  const char* course = std::getenv(protocol::env::course_dir);
  if (course == nullptr) {
    fmt::print(stderr, "race.stepper: {} is not set (run it through lab demo)\n",
               protocol::env::course_dir);
    return 2;
  }
  const std::string name = p.text("program");
  stepper::model m;
  try {
    m = stepper::load_model(stepper::model_file(course, name));
  } catch (const stepper::model_error& error) {
    std::string names;
    for (const auto& each : stepper::model_names(course)) names += " " + each;
    throw bad_param(fmt::format("program={}: {} (programs:{})", name, error.what(), names));
  }
  const int threads = static_cast<int>(p.given("threads") ? p.number("threads") : m.threads);
  fmt::print("{}\nEach of {} threads runs these steps; each step is atomic:\n{}\n", m.summary,
             threads, stepper::show_program(m));

  std::string schedule = p.text("schedule");
  if (schedule.empty()) {
    const stepper::exploration e = stepper::explore(m, threads);
    fmt::print("Every order the scheduler could choose:\n{}\n",
               stepper::show_exploration(m, threads, e));
    for (const auto& o : e.outcomes)
      if (o.bad && schedule.empty()) schedule = o.example;
    report_metric("interleavings", static_cast<double>(e.interleavings), "count");
    if (schedule.empty()) {
      fmt::print("No interleaving ends badly.\n");
      return 0;
    }
    fmt::print("One bad schedule, {}, step by step:\n", schedule);
  } else {
    std::string error;
    stepper::replay(m, threads, schedule, error);
    if (!error.empty()) throw bad_param("schedule=" + schedule + ": " + error);
    fmt::print("Schedule {}, step by step:\n", schedule);
  }
  show_replay(m, threads, schedule);
  fmt::print("\nPlay the scheduler yourself: step {} (u undoes a step).\n", name);
  return 0;
}

// 1 to 4 threads, as `lab step --threads`: the explorer visits every
// interleaving, and their number multiplies with each thread added.
const registration stepper_demo{
    {.name = "race.stepper",
     .summary = "every interleaving of a racing program, counted; a bad one replayed",
     .params = {param::text("program", "counter",
                            "a program of lessons/stepper (counter, bank...)"),
                param::number_or("threads", "the program's own", {1, 4}),
                param::text("schedule", "", "a schedule such as ABAB")},
     .run = run_stepper}};

}  // namespace
}  // namespace lab::demos
