// Did the machine show what the lesson says? A demo that states a lesson's
// claim from its own figures asks here before it says so.
//
// The demo describes each claim as one measured figure and the bound the
// lesson expects of it ("2 threads without the GIL against 1: at least
// 1.5x"). judge() compares them and, when the figure misses, looks for the
// cause in the machine's figures (load_figures: a process allowed one core,
// cores kept busy by other programs). describe() words the result: the
// lesson's conclusion when the figure shows it; otherwise that this run did
// not show it, with the figures, the cause found (or that none was found),
// and never the conclusion. The same causes warn under the timing table of
// `lab exercise` (machine_causes, cores_note).
//
// Everything here is a pure function of the figures it is given: tests feed
// it figures, and no decision depends on a clock.
#pragma once

#include <string>
#include <vector>

#include "machine_load.hpp"

namespace lab::demos {

enum class expect {
  at_least,  // value >= bound
  at_most,   // value <= bound
  between,   // low <= value <= bound: "about one interval"
};

// What a lesson says about one figure a demo measured.
struct claim {
  std::string figure = {};  // what was measured, for people: "2 threads without the GIL against 1"
  double value = 0;         // as measured, in `unit`
  expect direction = expect::at_least;
  double bound = 0;  // the lesson's expectation (`direction` says how)
  double low = 0;    // the lower end, for expect::between
  std::string unit = "x";
  // How many threads or processes must run at the same time for the effect
  // to show: 1 when it needs no parallelism at all.
  unsigned parallel = 1;
  // The figure comes from timings: other programs disturb it even when the
  // effect needs no parallelism (they slow one run more than another).
  // False for counts (lost updates, results ready).
  bool timed = true;
  std::string lesson = {};  // the lesson's conclusion, said only when the figure shows it
  // A cause the demo knows of when the figure misses (one of its own
  // parameters, say), named before the machine's; "" for none.
  std::string known_cause = {};
};

struct verdict {
  bool shown = false;
  // When not shown: what explains it, one sentence each (the claim's known
  // cause, then the machine's); empty when nothing does.
  std::vector<std::string> causes;
  bool machine_to_blame = false;  // some of the causes are the machine's
};

// Other programs using this many cores, on average, are worth naming as a cause.
inline constexpr double busy_cores_worth_naming = 0.5;

// "No faster than one": the most a speedup may be for a lesson that expects
// none (threads that take turns under the GIL). Above it, they overlapped.
inline constexpr double no_speedup_bound = 1.25;

// A one-worker run shorter than this is too short to show a speedup:
// starting the threads or processes costs about as much as the work.
inline constexpr double shortest_useful_run_seconds = 0.01;

// The known cause for a speedup claim whose one-worker run took `seconds`,
// saying what to raise (`raise`, e.g. "a larger n"); "" when long enough.
std::string too_short_cause(double seconds, const std::string& raise);

// The lesson's bound for the speedup of `workers` threads or processes over
// one, on this machine: at least half of the ideal gain, the ideal being
// min(workers, usable cores), and never below 1.5x (the effect needs two
// cores; with one, judge() names that as the cause).
double speedup_bound(long workers, const load_figures& machine);

// What in the machine's figures kept `parallel` threads from running at
// once, each a sentence, "" when it did not (and always for parallel <= 1):
// this process may use one core only;
std::string single_core_cause(const load_figures& machine, unsigned parallel);
// other programs kept so many of its cores busy that fewer than `parallel`
// were left (the load average stands in when their CPU time is unknown).
std::string busy_cause(const load_figures& machine, unsigned parallel);
// Both, those that apply.
std::vector<std::string> machine_causes(const load_figures& machine, unsigned parallel);
// For a timing that needs no parallelism: other programs kept half a core
// or more busy while it measured, which disturbs any timing; "" otherwise.
std::string disturbed_cause(const load_figures& machine);

// A sentence for a table of 1 to `workers` workers when this process may
// use fewer cores than the workers and the machine have: how many of them
// run at once. "" when it may use as many as either.
std::string cores_note(const load_figures& machine, unsigned workers);

// Warnings under a timing table whose rows ran up to `workers` workers, from
// the machine's figures over the timing: the causes above, then the cores
// note (unless a single core was said), each a sentence of its own. None
// when the machine was fit to time on.
std::vector<std::string> timing_warnings(const load_figures& machine, unsigned workers);

verdict judge(const claim& c, const load_figures& machine);

// For people, one paragraph that ends in a newline:
//   "Seen here: <figure>: <value> (the lesson expects at least <bound>).
//      <lesson>"
// (or "at most <bound>", or "between <low> and <bound>")
//   "Not seen here: <figure>: <value> (the lesson expects at least <bound>).
//      Why: <causes>, or that the machine's figures explain nothing."
// The value and the bound are printed the same way, so a reader (or a test)
// can check the verdict against them.
std::string describe(const claim& c, const verdict& v, const load_figures& machine);

// judge() and describe() for each claim in turn, as one text.
std::string verdicts(const std::vector<claim>& claims, const load_figures& machine);

// The machine's figures in a line, for a demo's header or a "why".
std::string machine_summary(const load_figures& machine);

}  // namespace lab::demos
