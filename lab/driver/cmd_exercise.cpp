// lab exercise NAME / lab solution NAME: build the student's file (or the
// reference solution) with the hidden checks, run them boxed, and report;
// with --watch, again after every save.
#include <fmt/core.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>
#include <system_error>

#include "app.hpp"
#include "exercise_run.hpp"
#include "file_watch.hpp"
#include "invocation.hpp"
#include "report.hpp"
#include "settings.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct exercise_options {
  std::string name;
  std::optional<int> stage;
  std::vector<int> workers;
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool no_timings = false;
  bool verbose = false;
  bool watch = false;
};

// Merges this run into the student's progress: stages that passed now are
// added, stages that failed now are removed; done when all stages pass.
void record_progress(app_context& context, const exercise& e, const exercise_result& r) {
  context.update_progress([&](progress_store& progress) {
    std::vector<int> passed = progress.exercise(e.name).value("stages_passed", std::vector<int>{});
    for (const auto& stage : r.stages) {
      if (stage.interrupted) continue;  // Ctrl-C: it keeps what it had
      std::erase(passed, stage.number);
      if (stage.passed()) passed.push_back(stage.number);
    }
    std::sort(passed.begin(), passed.end());
    progress.record_run(e.name, passed.size() == e.stages.size(), passed);
  });
}

// One run of the checks (and the timings), reported; its exit code.
int check_once(const exercise& e, const run_options& run, const exercise_options& options,
               app_context& context) {
  const style s = style_for(1);
  const course& c = context.the_course();
  const bool terminal = isatty(STDOUT_FILENO) != 0 && !options.json;
  if (options.json) {
    const exercise_result result = run_exercise(c, e, run);
    *context.out << exercise_json(result).dump(2) << "\n";
    if (run.source == code_source::exercise && result.build.ok) record_progress(context, e, result);
    return exit_code_for(result);
  }
  // The verdict first; then the timings, row by row as they are measured.
  // On a terminal, a status line says what is happening meanwhile.
  if (!run.env.empty()) *context.out << s.note(settings_note(run.env)) << "\n";
  if (terminal)
    *context.out << s.note(fmt::format("building and checking {}...", e.name)) << std::flush;
  exercise_result result = run_checks(c, e, run);
  if (terminal) *context.out << "\r\x1b[2K";  // erase the status line
  print_verdict(*context.out, e, result, s, options.verbose);
  if (run.timings && e.timing &&
      std::any_of(result.stages.begin(), result.stages.end(),
                  [](const stage_result& x) { return x.passed(); })) {
    print_timing_header(*context.out, e, result, s);
    run_timings(c, e, run, result, [&](const std::vector<timing_result>& row) {
      print_timing_rows(*context.out, row);
    });
    print_timing_footer(*context.out, result, s);
  }
  print_next_step(*context.out, e, result, s);
  if (run.source == code_source::exercise && result.build.ok) record_progress(context, e, result);
  return exit_code_for(result);
}

// --watch: checks, then checks again after every save of the file, until
// Ctrl-C (so lab ends with exit code 130, as any command Ctrl-C stops).
int watch_exercise(const exercise& e, const run_options& run, const exercise_options& options,
                   app_context& context) {
  const course& c = context.the_course();
  const std::filesystem::path file =
      run.source == code_source::exercise ? c.exercise_file(e) : c.solution_file(e);
  const std::string shown = std::filesystem::relative(file, c.root).string();
  std::optional<file_watch> watch;
  try {
    watch.emplace(file);  // before the first run, so that a save during it counts
  } catch (const std::system_error& error) {
    *context.err << fmt::format("lab: cannot watch {}: {}; run without --watch\n", shown,
                                error.what());
    return exit_code::lab_error;
  }
  const style s = style_for(1);
  int code = check_once(e, run, options, context);
  for (;;) {
    if (context.cancel != nullptr && context.cancel->load()) return code;  // Ctrl-C in the run
    *context.out << s.note(fmt::format("Watching {}: save it to check again; Ctrl-C stops.",
                                       shown))
                 << "\n"
                 << std::flush;
    if (!watch->wait_for_save(context.cancel)) return code;
    *context.out << "\n" << s.strong(fmt::format("── {} saved: checking again ──", shown)) << "\n";
    code = check_once(e, run, options, context);
  }
}

int run_exercise_command(const exercise_options& options, code_source source,
                         app_context& context) {
  const exercise* e = find_exercise_or_explain(context, options.name);
  if (e == nullptr) return exit_code::bad_usage;
  if (options.stage &&
      (*options.stage < 1 || *options.stage > static_cast<int>(e->stages.size()))) {
    *context.err << fmt::format("lab: {} has stages 1 to {}; there is no stage {}\n", e->name,
                                e->stages.size(), *options.stage);
    return exit_code::bad_usage;
  }
  run_options run;
  run.source = source;
  run.stage = options.stage;
  run.workers = options.workers;
  run.seed = options.seed;
  run.timings = !options.no_timings;
  run.cancel = context.cancel;
  run.env = context.settings_env();
  const style s = style_for(1);
  const bool terminal = isatty(STDOUT_FILENO) != 0 && !options.json;
  // Waiting for another lab's build says so: on the status line on a
  // terminal, else as a line of its own on stderr (stdout may be JSON).
  run.notice = [&context, terminal, s](const std::string& message) {
    if (terminal)
      *context.out << "\r\x1b[2K" << s.note(message + "...") << std::flush;
    else
      *context.err << "lab: " << message << "...\n" << std::flush;
  };
  if (options.watch) return watch_exercise(*e, run, options, context);
  return check_once(*e, run, options, context);
}

// More workers than this is not a timing question but a fork bomb: the box's
// task limit would refuse them anyway.
constexpr int max_workers = 128;

CLI::App* add_exercise_like(CLI::App& app, app_context& context, const char* name, const char* help,
                            code_source source) {
  auto options = std::make_shared<exercise_options>();
  CLI::App* sub = app.add_subcommand(name, help);
  sub->add_option("name", options->name, "The exercise (" + lab_command("list") + " shows them)")
      ->required();
  sub->add_option("--stage", options->stage, "Check only this stage (1, 2, ...)");
  sub->add_option("--workers", options->workers,
                  fmt::format("Worker counts for the timing table, e.g. --workers 1,2,4 (each 1 to "
                              "{})",
                              max_workers))
      ->delimiter(',')
      ->check(CLI::Range(1, max_workers).description(""));
  sub->add_option("--seed", options->seed, "Seed for the random inputs (a failure names its seed)")
      ->check(seed_validator());
  sub->add_flag("--json", options->json, "Print the whole result as one JSON document");
  sub->add_flag("--no-timings", options->no_timings, "Skip the timing table");
  sub->add_flag("--watch", options->watch,
                "Check again each time you save the file, until Ctrl-C")
      ->excludes(sub->get_option("--json"));
  sub->add_flag("-v,--verbose", options->verbose,
                "Show everything your program printed, check by check (printf debugging); "
                "--json always has it");
  context.runners[sub] = [options, source, &context] {
    return run_exercise_command(*options, source, context);
  };
  return sub;
}

}  // namespace

void setup_exercise(CLI::App& app, app_context& context) {
  add_exercise_like(
      app, context, "exercise",
      "Build your exercises/ file, run the hidden checks, then time the stages that pass",
      code_source::exercise);
}

void setup_solution(CLI::App& app, app_context& context) {
  add_exercise_like(app, context, "solution",
                    "The same checks and timings, against the reference in solutions/",
                    code_source::solution);
}

}  // namespace lab
