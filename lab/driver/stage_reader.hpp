// Reading a stage's verdicts from what its check program reported, and
// running a stage again after a check that hung or crashed. Pure logic over
// run results (run.hpp): tests drive it with made-up runs, nothing compiled.
//
// A stage is believed only from evidence: every listed check reported its
// start and its end, in order, with the run's secret, and the program then
// reported the end of its run and exited by itself. Anything else fails the
// stage with the reason: a check that never ended is blamed on what stopped
// the program; lines without the secret are forgeries; a program that
// exited in the middle of a check was stopped by student code.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "run.hpp"

namespace lab {

struct check_result {
  std::string name;
  bool passed = false;
  bool todo = false;     // failed at the stub's lab::todo(): not started yet
  bool not_run = false;  // an earlier check stopped the program
  std::string message;   // why it failed; "" when it passed
  double seconds = 0;
  std::string note;  // what the check reported in passing (a measured figure), or ""
  // Failed without a verdict on the code: the machine was too busy to
  // decide (lab/progress.hpp, or the box's own clock in sandbox.hpp).
  bool undecided = false;
  // For the check that stopped the program (a crash, a timeout): the last
  // lines the program printed during it (stderr, then stdout; the whole
  // run's if it printed nothing during the check), where its own
  // explanation usually is ("terminate called without an active exception").
  std::string output = {};
  // Everything the program printed while this check ran (lab exercise
  // --verbose shows it: printf debugging).
  check_output printed = {};
};

struct stage_result {
  int number = 0;
  std::string title;
  std::vector<check_result> checks;
  std::string problem;  // what stopped the program, if anything ("timed out after 30 s ...")
  // Ctrl-C stopped it before its verdict was complete: neither passed nor
  // failed, and nothing of it is recorded in the student's progress.
  bool interrupted = false;
  // What the program printed outside every check: static initialisers,
  // threads still running after their check ended.
  check_output printed_outside;
  bool passed() const;
  bool not_started() const;  // every failure is a lab::todo()
  bool undecided() const;    // no check failed for certain, but some could not be decided
};

// One run of a stage's check program, read.
struct stage_attempt {
  stage_result stage;
  // When the program was stopped inside a check (timed out or crashed) with
  // checks still to come: the index in `names` of the first of those, so
  // that a new run can carry on from there. Otherwise names.size().
  std::size_t resume_from = 0;
  bool timed_out = false;  // the run was stopped by its timeout
};

// The last `lines` lines of what a program printed (stderr, then stdout),
// each cut to 200 characters; "" if it printed nothing.
std::string output_tail(const check_output& printed, std::size_t lines = 12);

// A line of advice for a crash message the C++ runtime printed, or "".
std::string advice_for(const std::string& output);

// Turns one run of the checks `names` (in the order the program runs them)
// into check results.
stage_attempt read_stage(const std::vector<std::string>& names, const run_result& run, int number,
                         const std::string& title);

// At most this many checks of one stage may time out before the rest are
// left unrun: each costs a whole timeout, and code that hangs everywhere
// would otherwise keep a student waiting for minutes. Crashes cost little
// and do not count.
inline constexpr int timeouts_per_stage = 3;

// Runs the checks `selected` of the stage (every check of the stage when
// `all` is true) and returns the run.
using stage_runner = std::function<run_result(const std::vector<std::string>& selected, bool all)>;

// Runs one stage's checks through `run` and reads the results. When the
// program is stopped inside a check (it hung, or it crashed), that check
// fails with the reason and a fresh run covers the checks after it, so that
// one stuck check does not hide the verdicts of the rest. Every run covers
// at least one more check, so this ends; after `timeouts_per_stage`
// timeouts, or when *cancel is set, it stops early.
stage_result run_stage(const std::vector<std::string>& names, int number, const std::string& title,
                       const stage_runner& run, const std::atomic<bool>* cancel);

}  // namespace lab
