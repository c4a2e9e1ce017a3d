// lab grade: every exercise, one report, exit 0 only if all pass. CI runs it,
// and Gradescope (--format gradescope); `--solutions` is how the course checks
// itself.
#include <fmt/core.h>

#include <fstream>
#include <ostream>
#include <sstream>

#include "app.hpp"
#include "exercise_run.hpp"
#include "gradescope_report.hpp"
#include "report.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct grade_options {
  bool solutions = false;
  std::string format = "text";
  std::string output;
  std::optional<std::uint64_t> seed;
};

int run_grade(const grade_options& options, app_context& context) {
  const course& c = context.the_course();
  std::vector<exercise_result> results;
  run_options run;
  run.source = options.solutions ? code_source::solution : code_source::exercise;
  run.timings = false;  // grading is about verdicts; timings are for students
  run.seed = options.seed;
  run.cancel = context.cancel;
  run.notice = [&context](const std::string& message) {
    *context.err << "lab: " << message << "...\n" << std::flush;
  };
  for (const auto& e : c.exercises) {
    if (context.cancel != nullptr && context.cancel->load()) break;
    results.push_back(run_exercise(c, e, run));
  }

  std::ostringstream report;
  const bool to_file = !options.output.empty();
  if (options.format == "json") {
    report << grade_json(results).dump(2) << "\n";
  } else if (options.format == "junit") {
    report << grade_junit(results);
  } else if (options.format == "gradescope") {
    report << grade_gradescope(c, results).dump(2) << "\n";
  } else {
    print_grade(report, results, to_file ? style{} : style_for(1));
  }
  if (to_file) {
    std::ofstream file(options.output);
    file << report.str();
    if (!file) {
      *context.err << fmt::format("lab: cannot write {}; check the folder exists and is writable\n",
                                  options.output);
      return exit_code::lab_error;
    }
    // Still say the verdict on the terminal: CI logs show it.
    std::ostringstream summary;
    print_grade(summary, results, style_for(1));
    *context.out << summary.str();
  } else {
    *context.out << report.str();
  }
  return exit_code_for(results);
}

}  // namespace

void setup_grade(CLI::App& app, app_context& context) {
  auto options = std::make_shared<grade_options>();
  CLI::App* sub = app.add_subcommand(
      "grade", "Check every exercise and write one report (exit 0 only if all pass)");
  sub->add_flag("--solutions", options->solutions,
                "Grade the reference solutions (the course's self-check)");
  sub->add_option("--format", options->format,
                  "Report format: text, json, junit (CI test reporters) or gradescope (an "
                  "autograder's results.json)")
      ->check(CLI::IsMember({"text", "json", "junit", "gradescope"}))
      ->capture_default_str();
  sub->add_option("--output", options->output,
                  "Write the report to this file instead of standard output");
  sub->add_option("--seed", options->seed, "Seed for the random inputs")->check(seed_validator());
  context.runners[sub] = [options, &context] { return run_grade(*options, context); };
}

}  // namespace lab
