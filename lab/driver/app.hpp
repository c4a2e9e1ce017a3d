// The lab command line: one CLI11 app with a subcommand per file
// (cmd_list.cpp, cmd_exercise.cpp, ...). Each file has an options struct,
// setup_x(CLI::App&, app_context&) and run_x(...). The same app will parse
// the REPL's lines, so every subcommand works there with the same words.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "course.hpp"
#include "demo_run.hpp"
#include "exit_codes.hpp"
#include "lesson.hpp"
#include "state.hpp"

namespace lab {

// The default app_context::read_line.
bool read_standard_input(const std::string& prompt, std::string& line);

// What every subcommand shares: where the course is, the output streams,
// and the flag that Ctrl-C sets.
struct app_context {
  std::string course_dir;  // --course (default: this checkout)
  std::string checks_dir;  // --checks (default: <course>/checks)
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  const std::atomic<bool>* cancel = nullptr;
  // Reads one line of input for a command that asks (the race stepper);
  // false at the end of input. The REPL puts its line editor here; the
  // default prints the prompt on a terminal and reads standard input.
  std::function<bool(const std::string& prompt, std::string& line)> read_line = read_standard_input;
  // The runner of each subcommand, called after a successful parse.
  std::map<const CLI::App*, std::function<int()>> runners;

  // The course, loaded on first use. Throws course_error.
  const course& the_course();
  // The progress file of the course, read again from disk at each call (so
  // that the REPL sees what other lab commands wrote); prints a warning once.
  progress_store& progress();
  // The course's lessons, loaded on first use; a malformed file is reported
  // once on the error stream and the others still load.
  const lesson_set& lessons();
  // Changes the progress file: `change` is applied to what is on disk now,
  // under a lock (progress_store::update). If that fails, warns and carries
  // on (a lost record of progress must not stop the student's work).
  void update_progress(const std::function<void(progress_store&)>& change);
  // The student's GIL settings as environment variables (settings.hpp);
  // empty when every setting is at its default.
  std::vector<std::pair<std::string, std::string>> settings_env();

 private:
  std::optional<course> course_;
  std::optional<lesson_set> lessons_;
  std::optional<progress_store> progress_;
};

// Builds the app with every subcommand registered.
std::unique_ptr<CLI::App> make_app(app_context& context);

// Parses argv and runs the chosen subcommand; returns the exit code.
// Usage errors print one line naming the problem and the closest valid words.
int run_command_line(int argc, const char* const* argv);

// After a successful parse of `app`: reports unexpected arguments (one line
// with the closest valid words), else runs the chosen subcommand. Returns
// the exit code; with no subcommand chosen, returns -1.
int run_parsed(CLI::App& app, app_context& context);

// Ctrl-C: whether one is pending, and forgetting it (the REPL does, before
// each command, so that a Ctrl-C at the prompt does not stop the next one).
bool interrupt_pending();
void clear_interrupt();

// Runs a command, turning what it throws into one line on the error stream
// and an exit code: a broken course file or an unusable folder is 2, any
// other failure of lab's own is 3.
int run_guarded(app_context& context, const std::function<int()>& command);

// The REPL: `lab` with no arguments. See repl.cpp.
int run_repl(app_context& context);

// Finds exercise `name`, or prints "no exercise named ..." with the closest
// names and returns nullptr.
const exercise* find_exercise_or_explain(app_context& context, const std::string& name);

// Records that slide `slide_number` (1-based) of a lesson was shown.
void mark_slide_seen(progress_store& progress, const std::string& lesson_key, int slide_number);

// Runs demo `name` with `defaults` overlaid by `overrides`, its output live
// on the terminal, and says how it ended. Returns lab's exit code for it.
int show_demo(app_context& context, const std::string& name, const demo_params& defaults,
              const demo_params& overrides);

// Accepts a seed: a whole number from 0 to 2^64-1, written in digits only
// (CLI11 alone would wrap "-1" round to 18446744073709551615).
CLI::Validator seed_validator();

// Subcommand registration, one per cmd_*.cpp file.
void setup_list(CLI::App& app, app_context& context);
void setup_exercise(CLI::App& app, app_context& context);
void setup_solution(CLI::App& app, app_context& context);
void setup_hint(CLI::App& app, app_context& context);
void setup_grade(CLI::App& app, app_context& context);
void setup_lessons(CLI::App& app, app_context& context);
void setup_demo(CLI::App& app, app_context& context);
void setup_progress(CLI::App& app, app_context& context);
void setup_settings(CLI::App& app, app_context& context);
void setup_step(CLI::App& app, app_context& context);
void setup_bench(CLI::App& app, app_context& context);
void setup_serve(CLI::App& app, app_context& context);
void setup_load(CLI::App& app, app_context& context);

}  // namespace lab
