#include "exercise_run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "exit_codes.hpp"
#include "lab/protocol.hpp"
#include "lab/timing.hpp"
#include "verdict.hpp"

namespace lab {
namespace {

namespace p = protocol;

const char* const race_check_name = "has no data race (ThreadSanitizer)";
const char* const lock_order_advice =
    ". Two threads took the same two locks in opposite orders: that is a deadlock waiting to "
    "happen, even if nothing deadlocked in this run (something else, such as another lock, "
    "may have kept them apart). Take locks in one fixed order, or together with "
    "std::scoped_lock";

// The box for one run of exercise `e`'s check program, in `mode`, for
// `stage`. Every run of a check program starts here.
run_spec spec_for(const course& c, const exercise& e, const std::filesystem::path& program,
                  const run_options& options, const char* mode, int stage) {
  run_spec spec;
  spec.argv = {program.string()};
  spec.working_dir = c.root;
  spec.profile = e.profile;
  spec.cancel = options.cancel;
  spec.env = {{p::env::check_mode, mode},
              {p::env::check_stage, std::to_string(stage)},
              {p::env::check_seed, std::to_string(options.seed.value_or(p::defaults::seed))}};
  spec.env.insert(spec.env.end(), options.env.begin(), options.env.end());
  return spec;
}

// Adds what a run could not do on this machine to the result's notes, once each.
void keep_notes(exercise_result& r, const run_result& run) {
  for (const auto& note : run.notes)
    if (std::find(r.notes.begin(), r.notes.end(), note) == r.notes.end()) r.notes.push_back(note);
}

// The names of one stage's checks, in order (doctest's --list-test-cases).
// Asked per stage: a check file may skip checks in early stages
// (doctest::skip(lab::check::stage() < 2)).
std::vector<std::string> list_checks(const course& c, const exercise& e,
                                     const std::filesystem::path& program,
                                     const run_options& options, int stage) {
  run_spec spec = spec_for(c, e, program, options, p::mode_checks, stage);
  spec.argv.push_back("--list-test-cases");
  spec.profile.timeout = std::min(spec.profile.timeout, profiles::query().timeout);
  const run_result run = run_in_box(spec);
  const auto* list = run.first<p::check_list>();
  return list == nullptr ? std::vector<std::string>{} : list->checks;
}

// Runs one stage's checks, resuming after a check that hung or crashed.
stage_result check_stage(const course& c, const exercise& e, const std::filesystem::path& program,
                         const run_options& options, int number, exercise_result& r) {
  const auto names = list_checks(c, e, program, options, number);
  const std::string title = number >= 1 && static_cast<std::size_t>(number) <= e.stages.size()
                                ? e.stages[static_cast<std::size_t>(number - 1)].title
                                : "";
  const auto run = [&](const std::vector<std::string>& selected, bool all) {
    run_spec spec = spec_for(c, e, program, options, p::mode_checks, number);
    if (!all) {  // exactly the checks still to come
      std::string filter;
      for (const auto& name : selected) filter += (filter.empty() ? "" : ",") + name;
      spec.argv.push_back("--test-case=" + filter);
    }
    run_result result = run_in_box(spec);
    keep_notes(r, result);
    return result;
  };
  return run_stage(names, number, title, run, options.cancel);
}

// The first ThreadSanitizer report in `err`, shortened to its headline and
// the frames in the student's file (or the first frames, if none).
std::string summarize_tsan(const std::string& err, const std::string& student_file) {
  std::istringstream lines(err);
  std::string line, headline, frames;
  int frame_count = 0;
  while (std::getline(lines, line)) {
    if (headline.empty()) {
      if (line.find("WARNING: ThreadSanitizer:") != std::string::npos)
        headline = line.substr(line.find("ThreadSanitizer:"));
      continue;
    }
    if (line.find("SUMMARY:") != std::string::npos) break;
    if (line.find(student_file) != std::string::npos && frame_count < 4) {
      const auto at = line.find(student_file);
      frames += (frames.empty() ? "" : "; ") + line.substr(at, line.find(' ', at) - at);
      ++frame_count;
    }
  }
  if (headline.empty()) return "";
  std::string summary = frames.empty() ? headline : headline + " at " + frames;
  // This report is about an order, not a deadlock that happened: say why it
  // still fails the stage, or a student whose own gate made the deadlock
  // impossible this time learns the wrong lesson.
  if (headline.find("lock-order-inversion") != std::string::npos)
    summary += lock_order_advice;
  return summary;
}

// Runs the stage's checks again in the ThreadSanitizer build and adds one
// check for the result. A run whose checks did not all pass is not called
// race-free: ThreadSanitizer only saw what the checks got to do.
void race_check(const course& c, const exercise& e, const run_options& options,
                const build_result& build, stage_result& stage, exercise_result& r) {
  check_result check;
  check.name = race_check_name;
  if (!build.ok) {
    check.message = "could not build the ThreadSanitizer variant: " + build.summary;
    stage.checks.push_back(check);
    return;
  }
  run_spec spec = spec_for(c, e, build.program, options, p::mode_checks, stage.number);
  spec.env.emplace_back("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
  spec.profile.address_space_bytes = 0;  // TSan reserves terabytes of shadow address space
  spec.profile.timeout *= 4;
  spec.profile.cpu_seconds *= 4;
  const run_result run = run_in_box(spec);
  keep_notes(r, run);
  if (run.outcome == run_outcome::interrupted) {  // Ctrl-C: no verdict, not a failure
    stage.interrupted = true;
    return;
  }
  const std::string file =
      options.source == code_source::exercise ? "exercises/" + e.file : "solutions/" + e.file;
  const std::string report = summarize_tsan(run.err, file);
  std::vector<std::string> names;
  for (const auto& each : stage.checks)
    if (each.name != race_check_name) names.push_back(each.name);
  const stage_result again = read_stage(names, run, stage.number, stage.title).stage;
  const auto failed = std::find_if(again.checks.begin(), again.checks.end(),
                                   [](const check_result& each) { return !each.passed; });
  if (!report.empty()) {
    check.message = report;
  } else if (run.outcome != run_outcome::exited || (run.exit_code != 0 && run.exit_code != 1)) {
    check.message = "the ThreadSanitizer run did not finish: " + run.stop_reason();
  } else if (!again.passed()) {
    check.message =
        failed == again.checks.end()
            ? "the checks did not finish under ThreadSanitizer: " + again.problem
            : fmt::format("under ThreadSanitizer \"{}\" failed: {}", failed->name, failed->message);
  } else {
    check.passed = true;
  }
  stage.checks.push_back(check);
}

// Times one row of the timing table for one worker count.
timing_result time_row(const course& c, const exercise& e, const std::filesystem::path& program,
                       const run_options& options, const timing_row& row, int workers,
                       exercise_result& r) {
  timing_result timing;
  timing.stage = row.stage;
  timing.label = row.label.empty() ? fmt::format("stage {}", row.stage) : row.label;
  timing.native = row.native;
  timing.workers = workers;
  run_spec spec = spec_for(c, e, program, options, p::mode_time, row.stage);
  spec.env.insert(spec.env.end(), {{p::env::time_workers, std::to_string(workers)},
                                   {p::env::time_size, std::to_string(e.timing->size)},
                                   {p::env::time_repeats, std::to_string(e.timing->repeats)},
                                   {p::env::time_native, row.native ? "1" : "0"}});
  const run_result run = run_in_box(spec);
  keep_notes(r, run);
  if (const auto* timed = run.first<p::timing>()) timing.samples = timed->samples;
  if (const auto* failed = run.first<p::timing_error>()) timing.error = failed->message;
  // Timings run only after the stage passed: a timing run that hangs or
  // crashes found a mistake the checks missed, and must say so rather than
  // sit quietly under "All stages pass".
  if (timing.samples.empty() && timing.error.empty() && !run.stop_reason().empty())
    timing.error = fmt::format(
        "{}. The checks passed, but this run did not: your code has a mistake the checks "
        "missed (tell your instructor, so that the course catches it)",
        run.stop_reason());
  if (timing.samples.empty() && timing.error.empty())
    timing.error = "the timing run reported no figures";
  if (!timing.samples.empty()) timing.median = median_of(timing.samples);
  return timing;
}

// Fills in speedup and efficiency for one row's runs, against its 1-worker
// run (or, if 1 was not timed, its first run).
void compare_timings(std::vector<timing_result>& row, unsigned cores) {
  if (row.empty()) return;
  auto base =
      std::find_if(row.begin(), row.end(), [](const timing_result& t) { return t.workers == 1; });
  if (base == row.end()) base = row.begin();
  for (auto& t : row) {
    if (base->median <= 0 || t.median <= 0) continue;
    t.speedup = base->median / t.median;
    const int ideal = std::max(1, std::min(t.workers, static_cast<int>(cores)));
    t.efficiency = t.speedup / ideal;
  }
}

}  // namespace

bool exercise_result::passed() const {
  return build.ok && !stages.empty() &&
         std::all_of(stages.begin(), stages.end(),
                     [](const stage_result& s) { return s.passed(); });
}

exercise_result run_checks(const course& c, const exercise& e, const run_options& options) {
  exercise_result result;
  result.exercise = e.name;
  result.source = options.source;
  // The cores this process may use, not the machine's: under `taskset` or in
  // a container, the workers have no more than these.
  const auto usable = demos::usable_cpus().size();
  result.cores = usable > 0 ? static_cast<unsigned>(usable)
                            : std::max(1u, std::thread::hardware_concurrency());
  result.seed = options.seed.value_or(p::defaults::seed);
  const auto selected = [&](int stage) { return !options.stage || *options.stage == stage; };
  const bool tsan_needed =
      options.race_check && std::any_of(e.race_check_stages.begin(), e.race_check_stages.end(),
                                        [&](int stage) { return selected(stage); });
  // The ThreadSanitizer variant is built now, beside the plain one, rather
  // than when a stage has passed: the two compiles share the cores, so after
  // an edit the student waits for about one compile instead of two. (Not
  // during the checks: a box's clean-up would take the compiler for a
  // process the checks left behind.)
  std::vector<build_flavor> flavors = {build_flavor::plain};
  if (tsan_needed) flavors.push_back(build_flavor::tsan);
  const std::vector<build_result> builds =
      build_check_programs(c, e, options.source, flavors, options.notice);
  result.build = builds.front();
  if (!result.build.ok) return result;

  for (const auto& info : e.stages) {
    if (!selected(info.number)) continue;
    if (options.cancel != nullptr && options.cancel->load()) {
      // Listed, so that the summary after Ctrl-C names every stage.
      stage_result skipped;
      skipped.number = info.number;
      skipped.title = info.title;
      skipped.interrupted = true;
      result.stages.push_back(std::move(skipped));
      continue;
    }
    stage_result stage = check_stage(c, e, result.build.program, options, info.number, result);
    const bool wants_race_check = std::find(e.race_check_stages.begin(), e.race_check_stages.end(),
                                            info.number) != e.race_check_stages.end();
    if (options.race_check && wants_race_check && stage.passed())
      race_check(c, e, options, builds.back(), stage, result);
    result.stages.push_back(std::move(stage));
  }
  return result;
}

void run_timings(const course& c, const exercise& e, const run_options& options, exercise_result& r,
                 const std::function<void(const std::vector<timing_result>&)>& on_row) {
  if (!e.timing || !r.build.ok) return;
  const std::vector<int> workers = options.workers.empty() ? e.timing->workers : options.workers;
  // What else the machine did while the timings ran: enough to say when the
  // speedups could not show (the same judgement as the demos', verdict.hpp).
  const demos::load_watch watch;
  int most_workers = 0;
  for (const auto& row : e.timing->rows) {
    auto stage = std::find_if(r.stages.begin(), r.stages.end(),
                              [&](const stage_result& s) { return s.number == row.stage; });
    if (stage == r.stages.end() || !stage->passed()) continue;  // timings only after the verdict
    std::vector<timing_result> timed;
    for (int w : workers) {
      if (options.cancel != nullptr && options.cancel->load()) return;
      timed.push_back(time_row(c, e, r.build.program, options, row, w, r));
    }
    compare_timings(timed, r.cores);
    if (on_row) on_row(timed);
    r.timings.insert(r.timings.end(), timed.begin(), timed.end());
    most_workers = std::max(most_workers, *std::max_element(workers.begin(), workers.end()));
  }
  if (most_workers > 1)
    r.timing_warnings =
        demos::timing_warnings(watch.figures(), static_cast<unsigned>(most_workers));
}

bool exercise_result::undecided() const {
  return build.ok && !stages.empty() &&
         std::all_of(stages.begin(), stages.end(),
                     [](const stage_result& s) { return s.passed() || s.undecided(); }) &&
         std::any_of(stages.begin(), stages.end(),
                     [](const stage_result& s) { return s.undecided(); });
}

int exit_code_for(const exercise_result& r) {
  if (r.build.course_bug) return exit_code::lab_error;
  if (r.passed()) return exit_code::ok;
  return r.undecided() ? exit_code::undecided : exit_code::failed;
}

int exit_code_for(const std::vector<exercise_result>& results) {
  const auto any = [&](auto predicate) {
    return std::any_of(results.begin(), results.end(), predicate);
  };
  if (any([](const exercise_result& r) { return r.build.course_bug; })) return exit_code::lab_error;
  if (results.empty()) return exit_code::failed;
  if (any([](const exercise_result& r) { return !r.passed() && !r.undecided(); }))
    return exit_code::failed;
  return any([](const exercise_result& r) { return r.undecided(); }) ? exit_code::undecided
                                                                      : exit_code::ok;
}

exercise_result run_exercise(const course& c, const exercise& e, const run_options& options) {
  exercise_result result = run_checks(c, e, options);
  if (options.timings) run_timings(c, e, options, result);
  return result;
}

}  // namespace lab
