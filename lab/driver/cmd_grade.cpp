// lab grade: every exercise, one report, exit 0 only if all pass. CI runs it,
// and Gradescope (--format gradescope); `--solutions` is how the course checks
// itself; `--class DIR` grades every student of a class (class_grading.hpp).
#include <fmt/core.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "app.hpp"
#include "class_grading.hpp"
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
  std::string class_dir;
};

// Writes `report` to --output (then the terminal still gets `summary`), or
// to standard output. False if the file could not be written.
bool deliver(const grade_options& options, app_context& context, const std::string& report,
             const std::string& summary) {
  if (options.output.empty()) {
    *context.out << report;
    return true;
  }
  std::ofstream file(options.output);
  file << report;
  if (!file) {
    *context.err << fmt::format("lab: cannot write {}; check the folder exists and is writable\n",
                                options.output);
    return false;
  }
  *context.out << summary;
  return true;
}

// lab grade --class DIR: every student's files in turn, one report.
int run_class(const grade_options& options, app_context& context) {
  const course& c = context.the_course();
  std::error_code ec;
  if (!std::filesystem::is_directory(options.class_dir, ec)) {
    *context.err << fmt::format(
        "lab: {} is not a folder; --class wants a folder with one folder per student\n",
        options.class_dir);
    return exit_code::bad_usage;
  }
  if (options.format == "junit" || options.format == "gradescope") {
    *context.err << fmt::format(
        "lab: --format {} grades one student; with --class use text, json or csv\n",
        options.format);
    return exit_code::bad_usage;
  }
  run_options run;
  run.seed = options.seed;
  run.cancel = context.cancel;
  run.notice = [&context](const std::string& message) {
    *context.err << "lab: " << message << "...\n" << std::flush;
  };
  std::vector<student_result> students;
  try {
    students = grade_class(c, options.class_dir, run,
                           [&context](const std::string& name, std::size_t index,
                                      std::size_t count) {
                             *context.err << fmt::format("lab: grading {} ({} of {})...\n", name,
                                                         index + 1, count)
                                          << std::flush;
                           });
  } catch (const std::filesystem::filesystem_error& error) {
    *context.err << fmt::format("lab: cannot prepare the class's work folder: {}\n", error.what());
    return exit_code::lab_error;
  }
  if (students.empty() && !(context.cancel != nullptr && context.cancel->load()))
    *context.err << fmt::format("lab: {} has no student folders (one folder per student)\n",
                                options.class_dir);
  std::ostringstream table;
  print_class(table, c, students, options.output.empty() ? style_for(1) : style{});
  std::string report = table.str();
  if (options.format == "json") report = class_json(c, students).dump(2) + "\n";
  if (options.format == "csv") report = class_csv(c, students);
  std::ostringstream summary;
  print_class(summary, c, students, style_for(1));
  if (!deliver(options, context, report, summary.str())) return exit_code::lab_error;
  return exit_code_for(students);
}

int run_grade(const grade_options& options, app_context& context) {
  if (!options.class_dir.empty()) return run_class(options, context);
  if (options.format == "csv") {
    *context.err << "lab: --format csv is for a class's table; use it with --class DIR\n";
    return exit_code::bad_usage;
  }
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
  // With --output, the terminal still gets the verdict: CI logs show it.
  std::ostringstream summary;
  if (to_file) print_grade(summary, results, style_for(1));
  if (!deliver(options, context, report.str(), summary.str())) return exit_code::lab_error;
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
                  "Report format: text, json, junit (CI test reporters), gradescope (an "
                  "autograder's results.json) or, with --class, csv")
      ->check(CLI::IsMember({"text", "json", "junit", "gradescope", "csv"}))
      ->capture_default_str();
  sub->add_option("--output", options->output,
                  "Write the report to this file instead of standard output");
  sub->add_option("--seed", options->seed, "Seed for the random inputs")->check(seed_validator());
  sub->add_option("--class", options->class_dir,
                  "Grade a class: a folder with one folder per student holding their exercise "
                  "files (or their exercises/ folder); one row per student")
      ->excludes(sub->get_option("--solutions"));
  context.runners[sub] = [options, &context] { return run_grade(*options, context); };
}

}  // namespace lab
