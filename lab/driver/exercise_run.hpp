// Running an exercise: build its check program, run each stage's checks in
// the sandbox, add a ThreadSanitizer pass where the course asks for one, and
// time the stages that passed. The result is plain data for the reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "builder.hpp"
#include "course.hpp"
#include "run.hpp"
#include "stage_reader.hpp"

namespace lab {

struct timing_result {
  int stage = 0;
  std::string label;
  bool native = false;
  int workers = 0;
  std::vector<double> samples;  // seconds, after one warm-up
  double median = 0;
  double speedup = 0;     // median of the 1-worker run / this median
  double efficiency = 0;  // speedup / min(workers, cores): the share of the possible speedup
  std::string error;      // when it could not be timed
};

struct exercise_result {
  std::string exercise;
  code_source source = code_source::exercise;
  build_result build;
  std::vector<stage_result> stages;
  std::vector<timing_result> timings;
  // What kept the timings from showing the speedups the code can reach here
  // (other programs busy, too few cores for the workers): sentences for
  // under the table; empty when the machine was fit to time on.
  std::vector<std::string> timing_warnings;
  unsigned cores = 0;  // the cores lab may use (its affinity mask, as `nproc` counts)
  std::uint64_t seed = 0;
  std::vector<std::string> notes;  // what the box could not do here, each said once
  bool passed() const;
  // Nothing failed for certain, but the machine was too busy to decide some
  // checks: run again, on a quieter machine.
  bool undecided() const;
};

struct run_options {
  code_source source = code_source::exercise;
  std::optional<int> stage;  // only this stage
  std::vector<int> workers;  // overrides the course's timing workers
  std::optional<std::uint64_t> seed;
  bool timings = true;
  bool race_check = true;
  const std::atomic<bool>* cancel = nullptr;  // Ctrl-C in the REPL
  // More environment for the check program: the student's GIL settings.
  environment env;
  // Told when the build waits for another lab (see build_check_programs).
  build_notice notice;
};

// Builds exercise `e` and runs its checks (no timings). Never throws for
// anything the student's code does; the result says what happened.
exercise_result run_checks(const course& c, const exercise& e, const run_options& options);

// Times every row of the course's timing plan whose stage passed in `r`,
// appending to r.timings. After each row (all its worker counts),
// `on_row` is called with the row's results, speedups filled in.
void run_timings(const course& c, const exercise& e, const run_options& options, exercise_result& r,
                 const std::function<void(const std::vector<timing_result>&)>& on_row = {});

// lab's exit code for a checked exercise: 0 if every stage passed, 1 if the
// student's code failed, 3 if the course itself is broken (its checks do not
// build): that is the course's fault, not the student's; 4 if nothing failed
// but some checks could not be decided (the machine was too busy).
int exit_code_for(const exercise_result& r);

// The same for a whole class: 3 if any exercise's checks are broken, else 1
// if any failed, else 4 if any was undecided.
int exit_code_for(const std::vector<exercise_result>& results);

// run_checks, then run_timings if options.timings.
exercise_result run_exercise(const course& c, const exercise& e, const run_options& options);

}  // namespace lab
