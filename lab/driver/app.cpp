#include "app.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "build_config.hpp"
#include "invocation.hpp"
#include "settings.hpp"
#include "suggest.hpp"

namespace lab {
namespace {

// Set by SIGINT: the sandbox sees it and stops the running program, so that
// Ctrl-C never leaves a student's program running in the background.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
  interrupted.store(true);
}

// Set by SIGTERM or SIGHUP (`kill`, `timeout`, a closed terminal): the same
// clean stop as Ctrl-C, so that the boxed program (a student's code, a
// server) does not outlive lab; then lab ends by that signal, as a killed
// program should.
std::atomic<int> terminated_by{0};

extern "C" void on_terminate(int signal_number) {
  terminated_by.store(signal_number);
  interrupted.store(true);
}

// What `lab --help` says first.
std::string overview() {
  return "lab: a concurrency lab. Run checks on your exercises, read hints, grade everything.\n"
         "Start with:  " +
         lab_command("list") + "    then    " + lab_command("exercise primes");
}

// Every option name of `app` (e.g. "--stage"), for suggestions.
std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    for (const auto& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// The one-line message for arguments nobody expected; "" if there are none.
std::string explain_extras(CLI::App& app) {
  CLI::App* where = &app;
  std::string words;  // the subcommands given, "exercise" (or "")
  for (CLI::App* sub = &app; sub != nullptr;) {
    auto parsed = sub->get_subcommands();
    sub = parsed.empty() ? nullptr : parsed.front();
    if (sub != nullptr) {
      where = sub;
      words += (words.empty() ? "" : " ") + sub->get_name();
    }
  }
  const std::string path = words.empty() ? "lab" : "lab " + words;  // who speaks
  const std::string help = lab_command(words.empty() ? "--help" : words + " --help");
  const auto extras = app.remaining(true);
  if (extras.empty()) return "";
  const std::string& word = extras.front();
  if (!word.empty() && word[0] == '-') {
    auto names = option_names(*where);
    if (where != &app) {
      auto global = option_names(app);
      names.insert(names.end(), global.begin(), global.end());
    }
    return fmt::format("{}: unknown option {}.{} ({} lists the options)", path, word,
                       did_you_mean(word, names), help);
  }
  if (where == &app)  // in the REPL, its own `help` lists its commands too
    return fmt::format("lab: unknown command '{}'.{} ({} lists the commands)", word,
                       did_you_mean(word, subcommand_names(app)), in_repl() ? "`help`" : help);
  return fmt::format("{}: unexpected argument '{}' ({} shows the usage)", path, word, help);
}

}  // namespace

const course& app_context::the_course() {
  if (!course_) {
    const std::string root = course_dir.empty() ? build_config::source_dir : course_dir;
    course_ = load_course(root, checks_dir);
  }
  return *course_;
}

progress_store& app_context::progress() {
  if (!progress_) {
    progress_.emplace(progress_file_for(the_course().root));
    if (!progress_->warning().empty()) *err << progress_->warning() << "\n";
  } else {
    progress_->reload();
  }
  return *progress_;
}

const lesson_set& app_context::lessons() {
  if (!lessons_) {
    lessons_ = load_lessons(the_course().root / "lessons");
    for (const auto& error : lessons_->errors)
      *err << "warning: " << error << " (this lesson is skipped)\n";
  }
  return *lessons_;
}

int run_guarded(app_context& context, const std::function<int()>& command) {
  try {
    const int code = command();
    return interrupted.load() ? exit_code::interrupted : code;
  } catch (const course_error& error) {
    *context.err << "lab: " << error.what() << "\n";
    return exit_code::bad_usage;
  } catch (const std::filesystem::filesystem_error& error) {
    // The checkout (or LAB_STATE_DIR) cannot be written or read: the
    // student's machine, not lab, has to change.
    *context.err << fmt::format(
        "lab: cannot use {}: {}; check that the folder exists and is "
        "writable (or set LAB_STATE_DIR to one that is)\n",
        error.path1().string(), error.code().message());
    return exit_code::bad_usage;
  } catch (const std::exception& error) {
    *context.err << "lab: internal error: " << error.what() << "\n";
    return exit_code::lab_error;
  }
}

int run_parsed(CLI::App& app, app_context& context) {
  if (const std::string problem = explain_extras(app); !problem.empty()) {
    *context.err << problem << "\n";
    return exit_code::bad_usage;
  }
  const auto chosen = app.get_subcommands();
  if (chosen.empty()) return -1;
  return run_guarded(context, context.runners.at(chosen.front()));
}

void clear_interrupt() {
  interrupted.store(false);
}
bool interrupt_pending() {
  return interrupted.load();
}

bool read_standard_input(const std::string& prompt, std::string& line) {
  if (isatty(STDIN_FILENO) != 0) std::cout << prompt << std::flush;
  return static_cast<bool>(std::getline(std::cin, line));
}

std::vector<std::pair<std::string, std::string>> app_context::settings_env() {
  return settings_environment(progress().data().value("settings", nlohmann::json::object()));
}

void app_context::update_progress(const std::function<void(progress_store&)>& change) {
  try {
    progress().update(change);
  } catch (const std::exception& error) {
    *err << "warning: progress not saved: " << error.what() << "\n";
  }
}

CLI::Validator seed_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        if (text.empty() || text.size() > 20 ||
            text.find_first_not_of("0123456789") != std::string::npos ||
            (text.size() == 20 && text > "18446744073709551615"))
          return "a seed is a whole number from 0 to 18446744073709551615";
        return "";
      },
      "0 to 2^64-1");
}

const exercise* find_exercise_or_explain(app_context& context, const std::string& name) {
  const course& c = context.the_course();
  if (const exercise* e = c.find(name)) return e;
  *context.err << fmt::format("lab: no exercise named '{}'.{} ({} shows them all)\n", name,
                              did_you_mean(name, c.names()), lab_command("list"));
  return nullptr;
}

std::unique_ptr<CLI::App> make_app(app_context& context) {
  auto app = std::make_unique<CLI::App>(overview(), lab_command());
  app->set_version_flag("--version", std::string("lab ") + build_config::version);
  app->allow_extras();  // extras get lab's own message, with suggestions
  app->fallthrough();   // global options may come after the subcommand
  app->add_option("--course", context.course_dir, "Course folder (default: this checkout)")
      ->check(CLI::ExistingDirectory);
  app->add_option(
         "--checks", context.checks_dir,
         "Folder of hidden checks, laid out as checks/ (for instructors keeping theirs private)")
      ->check(CLI::ExistingDirectory);
  setup_list(*app, context);
  setup_exercise(*app, context);
  setup_solution(*app, context);
  setup_hint(*app, context);
  setup_grade(*app, context);
  setup_lessons(*app, context);
  setup_demo(*app, context);
  setup_progress(*app, context);
  setup_settings(*app, context);
  setup_step(*app, context);
  setup_bench(*app, context);
  setup_serve(*app, context);
  setup_load(*app, context);
  for (CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; }))
    sub->allow_extras();
  return app;
}

int run_command_line(int argc, const char* const* argv) {
  take_invocation_from_environment();  // before any help text is made
  app_context context;
  context.out = &std::cout;
  context.err = &std::cerr;
  context.cancel = &interrupted;
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  struct sigaction termination {};
  termination.sa_handler = on_terminate;
  sigemptyset(&termination.sa_mask);
  sigaction(SIGTERM, &termination, nullptr);
  sigaction(SIGHUP, &termination, nullptr);
  // Once the command has stopped what it ran: end as the signal asked.
  const auto end_if_terminated = [](int code) {
    if (const int signal_number = terminated_by.load(); signal_number != 0) {
      signal(signal_number, SIG_DFL);
      raise(signal_number);
    }
    return code;
  };

  auto app = make_app(context);
  try {
    app->parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app->exit(error);  // --help, --version
    std::cerr << fmt::format("lab: {} ({} shows the usage)\n", error.what(), lab_command("--help"));
    return exit_code::bad_usage;
  }
  const int code = run_parsed(*app, context);
  if (code >= 0) return end_if_terminated(code);
  // No subcommand: the interactive lessons, with the same one-line errors.
  // The REPL keeps running after a Ctrl-C; a SIGTERM or SIGHUP still ends it
  // at once, as before (it stops a running demo through its own handling).
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  end_if_terminated(0);  // one that came while the command line was read
  return run_guarded(context, [&] { return run_repl(context); });
}

}  // namespace lab
