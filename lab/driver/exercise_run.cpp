#include "exercise_run.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "lab/timing.hpp"
#include "sandbox.hpp"

namespace lab {
namespace {

using json = nlohmann::json;

const char* const timed_out_text = "timed out after {} s: likely a deadlock or an endless loop";
const char* const race_check_name = "has no data race (ThreadSanitizer)";

// The JSON lines a check program sent over the result channel.
std::vector<json> parse_channel(const std::string& channel) {
  std::vector<json> events;
  std::istringstream lines(channel);
  std::string line;
  while (std::getline(lines, line)) {
    json event = json::parse(line, nullptr, false);
    if (!event.is_discarded() && event.is_object()) events.push_back(std::move(event));
  }
  return events;
}

sandbox_request request_for(const course& c, const exercise& e,
                            const std::filesystem::path& program, const run_options& options) {
  sandbox_request request;
  request.argv = {program.string()};
  request.working_dir = c.root;
  request.limits.timeout = std::chrono::seconds(e.timeout_seconds);
  request.limits.cpu_seconds = static_cast<std::uint64_t>(e.timeout_seconds) * 4;
  request.limits.max_tasks = e.max_tasks;
  request.cancel = options.cancel;
  request.env = {{"LAB_CHECK_SEED", std::to_string(options.seed.value_or(default_seed))}};
  request.env.insert(request.env.end(), options.env.begin(), options.env.end());
  return request;
}

// Why the program stopped early, in words, or "" if it ended by itself.
std::string describe_stop(const sandbox_result& run, const exercise& e) {
  switch (run.outcome) {
    case sandbox_outcome::timed_out:
      return fmt::format(fmt::runtime(timed_out_text), e.timeout_seconds);
    case sandbox_outcome::interrupted:
      return "interrupted";
    case sandbox_outcome::failed_to_start:
      return "could not start the check program: " + run.error;
    case sandbox_outcome::signaled: {
      std::string text = "crashed: " + describe_signal(run.term_signal);
      if (run.task_limit_hit)
        text += fmt::format("; it hit the limit of {} processes and threads (a fork bomb?)",
                            e.max_tasks);
      return text;
    }
    case sandbox_outcome::exited:
      break;
  }
  if (run.task_limit_hit)
    return fmt::format("it hit the limit of {} processes and threads (a fork bomb?)", e.max_tasks);
  return "";
}

// The names of one stage's checks, in order (doctest's --list-test-cases).
// Asked per stage: a check file may skip checks in early stages
// (doctest::skip(lab::check::stage() < 2)).
std::vector<std::string> list_checks(const course& c, const exercise& e,
                                     const std::filesystem::path& program,
                                     const run_options& options, int stage) {
  sandbox_request request = request_for(c, e, program, options);
  request.argv.push_back("--list-test-cases");
  request.env.emplace_back("LAB_CHECK_STAGE", std::to_string(stage));
  request.limits.timeout = std::chrono::seconds(10);
  std::vector<std::string> names;
  for (const auto& event : parse_channel(run_sandboxed(request).channel))
    if (event.value("event", "") == "list")
      for (const auto& name : event["checks"]) names.push_back(name.get<std::string>());
  return names;
}

// One run of a stage's check program, read.
struct stage_attempt {
  stage_result stage;
  // When the program was stopped inside a check (timed out or crashed) with
  // checks still to come: the index in `names` of the first of those, so
  // that a new run can carry on from there. Otherwise names.size().
  std::size_t resume_from = 0;
  bool timed_out = false;  // the run was stopped by its timeout
};

// At most this many checks of one stage may time out before the rest are
// left unrun: each costs a whole timeout, and code that hangs everywhere
// would otherwise keep a student waiting for minutes. Crashes cost little
// and do not count.
constexpr int timeouts_per_stage = 3;

// Turns a stage run's events into check results; the check that never ended
// is blamed on what stopped the program, and the rest are marked not run.
stage_attempt read_stage(const std::vector<std::string>& names, const sandbox_result& run,
                         const exercise& e, int number) {
  stage_attempt attempt;
  attempt.resume_from = names.size();
  attempt.timed_out = run.outcome == sandbox_outcome::timed_out;
  stage_result& stage = attempt.stage;
  stage.number = number;
  if (number >= 1 && static_cast<std::size_t>(number) <= e.stages.size())
    stage.title = e.stages[static_cast<std::size_t>(number - 1)].title;
  std::map<std::string, check_result> finished;
  std::string started, crash_message, todo_at_crash, forked_child;
  for (const auto& event : parse_channel(run.channel)) {
    const std::string kind = event.value("event", "");
    if (kind == "start") started = event.value("check", "");
    if (kind == "crash") {
      crash_message = event.value("message", "");
      todo_at_crash = event.value("todo", "");
    }
    if (kind == "forked_child_returned") forked_child = event.value("check", "");
    if (kind != "end") continue;
    check_result check;
    check.name = event.value("check", "");
    check.passed = event.value("passed", false);
    check.todo = event.value("todo", false);
    check.message = event.value("message", "");
    check.note = event.value("note", "");
    check.seconds = event.value("seconds", 0.0);
    finished[check.name] = check;
    started.clear();
  }

  stage.problem = describe_stop(run, e);
  if (stage.problem.empty() && run.exit_code != 0 && run.exit_code != 1)
    stage.problem = fmt::format("the check program ended with exit code {}", run.exit_code);
  if (!todo_at_crash.empty()) stage.problem = todo_at_crash;
  bool stopped = false;
  for (std::size_t index = 0; index < names.size(); ++index) {
    const std::string& name = names[index];
    if (auto found = finished.find(name); found != finished.end()) {
      stage.checks.push_back(found->second);
      continue;
    }
    check_result check;
    check.name = name;
    if (!stopped && (name == started || started.empty())) {
      check.message =
          stage.problem.empty() ? "the check program stopped during this check" : stage.problem;
      check.todo = !todo_at_crash.empty();
      stopped = true;
      // Stuck or crashed inside this very check: the checks after it can
      // still be run, in a fresh program. Not after Ctrl-C, nor when the
      // stage is simply not written yet (todo), nor when the program stopped
      // before any check began (it would stop there again every time).
      const bool stuck_or_crashed =
          run.outcome == sandbox_outcome::timed_out || run.outcome == sandbox_outcome::signaled;
      if (stuck_or_crashed && todo_at_crash.empty() && name == started)
        attempt.resume_from = index + 1;
    } else {
      check.not_run = true;
      check.message = "not run: the program stopped at an earlier check";
    }
    stage.checks.push_back(check);
  }
  if (!forked_child.empty()) {
    check_result check;
    check.name = "forked children end with _exit() instead of returning";
    check.message = fmt::format(
        "a child process returned into the checks during \"{}\": end children with _exit()",
        forked_child);
    stage.checks.push_back(check);
  }
  return attempt;
}

// Runs one stage's checks and reads the results. When the program is stopped
// inside a check (it hung and was timed out, or it crashed), that check fails
// with the reason and a fresh program runs the checks after it, so that one
// stuck check does not hide the verdicts of the rest. Each run has the full
// timeout; every run covers at least one more check, so this ends, and after
// `timeouts_per_stage` timeouts it stops early.
stage_result run_stage(const course& c, const exercise& e, const std::filesystem::path& program,
                       const run_options& options, int number) {
  const auto names = list_checks(c, e, program, options, number);
  // A new run selects its checks by name in one comma-separated doctest
  // filter, which only works for names without a comma or a wildcard. The
  // course's checks keep to that (a test sees to it); an instructor's own
  // (--checks) might not, and then a stopped program is not resumed.
  const bool selectable = std::none_of(names.begin(), names.end(), [](const std::string& name) {
    return name.find_first_of(",*?[]\\") != std::string::npos;
  });
  stage_result stage;
  std::size_t first = 0;  // the first check of `names` this run is for
  int timeouts = 0;
  for (;;) {
    const std::vector<std::string> remaining(names.begin() + static_cast<long>(first), names.end());
    sandbox_request request = request_for(c, e, program, options);
    request.env.emplace_back("LAB_CHECK_STAGE", std::to_string(number));
    if (first > 0) {  // exactly the checks still to come
      std::string selected;
      for (const auto& name : remaining) selected += (selected.empty() ? "" : ",") + name;
      request.argv.push_back("--test-case=" + selected);
    }
    stage_attempt attempt = read_stage(remaining, run_sandboxed(request), e, number);
    auto& checks = attempt.stage.checks;
    const bool out_of_timeouts = attempt.timed_out && ++timeouts >= timeouts_per_stage;
    const bool resume = selectable && attempt.resume_from < remaining.size() && !out_of_timeouts &&
                        !(options.cancel != nullptr && options.cancel->load());
    if (out_of_timeouts)
      for (auto& check : checks)
        if (check.not_run)
          check.message = fmt::format(
              "not run: {} checks of this stage timed out already; fix those first", timeouts);
    if (resume)  // the next run gives the checks still to come their own verdicts
      checks.erase(std::remove_if(checks.begin(), checks.end(),
                                  [](const check_result& check) { return check.not_run; }),
                   checks.end());
    if (first == 0) {
      stage = std::move(attempt.stage);
    } else {
      stage.checks.insert(stage.checks.end(), checks.begin(), checks.end());
      if (stage.problem.empty()) stage.problem = attempt.stage.problem;
    }
    if (!resume) break;
    first += attempt.resume_from;
  }
  return stage;
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
  return frames.empty() ? headline : headline + " at " + frames;
}

// Runs the stage's checks again in a ThreadSanitizer build and adds one
// check for the result.
void race_check(const course& c, const exercise& e, const run_options& options,
                stage_result& stage) {
  check_result check;
  check.name = race_check_name;
  const build_result build = build_check_program(c, e, options.source, build_flavor::tsan);
  if (!build.ok) {
    check.message = "could not build the ThreadSanitizer variant: " + build.summary;
    stage.checks.push_back(check);
    return;
  }
  sandbox_request request = request_for(c, e, build.program, options);
  request.env.emplace_back("LAB_CHECK_STAGE", std::to_string(stage.number));
  request.env.emplace_back("TSAN_OPTIONS", "halt_on_error=1 exitcode=66 second_deadlock_stack=1");
  request.limits.address_space_bytes = 0;  // TSan reserves terabytes of shadow address space
  request.limits.timeout *= 4;
  request.limits.cpu_seconds *= 4;
  const sandbox_result run = run_sandboxed(request);
  const std::string file =
      options.source == code_source::exercise ? "exercises/" + e.file : "solutions/" + e.file;
  const std::string report = summarize_tsan(run.err, file);
  if (!report.empty()) {
    check.message = report;
  } else if (run.outcome != sandbox_outcome::exited || (run.exit_code != 0 && run.exit_code != 1)) {
    check.message = "the ThreadSanitizer run did not finish: " + describe_stop(run, e);
  } else {
    check.passed = true;
  }
  stage.checks.push_back(check);
}

// Times one row of the timing table for one worker count.
timing_result time_row(const course& c, const exercise& e, const std::filesystem::path& program,
                       const run_options& options, const timing_row& row, int workers) {
  timing_result timing;
  timing.stage = row.stage;
  timing.label = row.label.empty() ? fmt::format("stage {}", row.stage) : row.label;
  timing.native = row.native;
  timing.workers = workers;
  sandbox_request request = request_for(c, e, program, options);
  request.env.insert(request.env.end(), {{"LAB_CHECK_MODE", "time"},
                                         {"LAB_CHECK_STAGE", std::to_string(row.stage)},
                                         {"LAB_TIME_WORKERS", std::to_string(workers)},
                                         {"LAB_TIME_SIZE", std::to_string(e.timing->size)},
                                         {"LAB_TIME_REPEATS", std::to_string(e.timing->repeats)},
                                         {"LAB_TIME_NATIVE", row.native ? "1" : "0"}});
  const sandbox_result run = run_sandboxed(request);
  for (const auto& event : parse_channel(run.channel)) {
    if (event.value("event", "") == "timing")
      timing.samples = event["samples"].get<std::vector<double>>();
    if (event.value("event", "") == "timing_error") timing.error = event.value("message", "");
  }
  if (timing.samples.empty() && timing.error.empty()) timing.error = describe_stop(run, e);
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

bool stage_result::passed() const {
  return problem.empty() && !checks.empty() &&
         std::all_of(checks.begin(), checks.end(), [](const check_result& c) { return c.passed; });
}

bool stage_result::not_started() const {
  return std::all_of(checks.begin(), checks.end(),
                     [](const check_result& c) { return c.todo || c.not_run; }) &&
         std::any_of(checks.begin(), checks.end(), [](const check_result& c) { return c.todo; });
}

bool exercise_result::passed() const {
  return build.ok && !stages.empty() &&
         std::all_of(stages.begin(), stages.end(),
                     [](const stage_result& s) { return s.passed(); });
}

exercise_result run_checks(const course& c, const exercise& e, const run_options& options) {
  exercise_result result;
  result.exercise = e.name;
  result.source = options.source;
  result.cores = std::max(1u, std::thread::hardware_concurrency());
  result.seed = options.seed.value_or(default_seed);
  result.build = build_check_program(c, e, options.source, build_flavor::plain);
  if (!result.build.ok) return result;

  for (const auto& info : e.stages) {
    if (options.stage && *options.stage != info.number) continue;
    if (options.cancel != nullptr && options.cancel->load()) break;
    stage_result stage = run_stage(c, e, result.build.program, options, info.number);
    const bool wants_race_check = std::find(e.race_check_stages.begin(), e.race_check_stages.end(),
                                            info.number) != e.race_check_stages.end();
    if (options.race_check && wants_race_check && stage.passed()) race_check(c, e, options, stage);
    result.stages.push_back(std::move(stage));
  }
  return result;
}

void run_timings(const course& c, const exercise& e, const run_options& options, exercise_result& r,
                 const std::function<void(const std::vector<timing_result>&)>& on_row) {
  if (!e.timing || !r.build.ok) return;
  const std::vector<int> workers = options.workers.empty() ? e.timing->workers : options.workers;
  for (const auto& row : e.timing->rows) {
    auto stage = std::find_if(r.stages.begin(), r.stages.end(),
                              [&](const stage_result& s) { return s.number == row.stage; });
    if (stage == r.stages.end() || !stage->passed()) continue;  // timings only after the verdict
    std::vector<timing_result> timed;
    for (int w : workers) {
      if (options.cancel != nullptr && options.cancel->load()) return;
      timed.push_back(time_row(c, e, r.build.program, options, row, w));
    }
    compare_timings(timed, r.cores);
    if (on_row) on_row(timed);
    r.timings.insert(r.timings.end(), timed.begin(), timed.end());
  }
}

exercise_result run_exercise(const course& c, const exercise& e, const run_options& options) {
  exercise_result result = run_checks(c, e, options);
  if (options.timings) run_timings(c, e, options, result);
  return result;
}

}  // namespace lab
