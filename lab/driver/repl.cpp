// The REPL: `lab` with no arguments. A student opens a lesson, reads it slide
// by slide, runs each slide's demo and goes to the lesson's exercise.
//
// Every line is parsed by the same CLI11 app as the command line, so every
// subcommand works here with the same words and options; the REPL adds its
// own commands (open, next, back, goto, show, run, help, quit) to that app.
// On a terminal, lines are read with libedit (editing, history, tab
// completion); otherwise plain lines are read, with no prompt and no escape
// codes, so that a session can be scripted: printf 'open gil\nnext\n' | lab
#include <editline/readline.h>
#include <unistd.h>

#include <fmt/core.h>
#include <model.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "app.hpp"
#include "demo_run.hpp"
#include "invocation.hpp"
#include "render.hpp"
#include "suggest.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

const char* const repl_help =
    "Lessons:    lessons · open NAME · next (or Enter) · back · goto N · show · run [key=value "
    "...]\n"
    "Exercises:  exercise [NAME] · solution [NAME] · hint [NAME] · list · grade\n"
    "Races:      step NAME (play the scheduler: step counter) · settings (the GIL's knobs)\n"
    "Also:       progress · demo NAME · help · quit (or Ctrl-D)\n"
    "Ctrl-C stops a running demo or exercise. Every `lab` command works here without the `lab`.";

const char* const repl_commands[] = {"back",     "demo",  "exercise", "exit",     "goto",
                                     "grade",    "help",  "hint",     "lesson",   "lessons",
                                     "list",     "load",  "next",     "open",     "progress",
                                     "quit",     "run",   "serve",    "settings", "show",
                                     "solution", "step"};

struct repl_state {
  app_context* context = nullptr;
  const lesson* current = nullptr;
  std::size_t slide = 0;
  bool quit = false;
  bool interactive = false;
};

// Completion candidates: set by complete(), read by next_candidate().
std::vector<std::string> candidates;
repl_state* completing_for = nullptr;

void show_slide(repl_state& r) {
  app_context& c = *r.context;
  *c.out << render_slide(*r.current, r.slide, style_for(1), terminal_width(1)) << "\n";
  const int number = static_cast<int>(r.slide) + 1;
  c.update_progress(
      [&](progress_store& progress) { mark_slide_seen(progress, r.current->key, number); });
}

int open_lesson(repl_state& r, const std::string& name) {
  const auto& set = r.context->lessons();
  const lesson* l = set.find(name);
  if (l == nullptr) {
    *r.context->err << fmt::format("no lesson named '{}'.{} (`lessons` shows them)\n", name,
                                   did_you_mean(name, set.keys()));
    return exit_code::bad_usage;
  }
  r.current = l;
  r.slide = 0;
  show_slide(r);
  return exit_code::ok;
}

bool need_lesson(repl_state& r) {
  if (r.current != nullptr) return true;
  *r.context->err << "no lesson is open: `lessons` lists them, `open NAME` opens one\n";
  return false;
}

int move_to(repl_state& r, long target) {
  if (!need_lesson(r)) return exit_code::bad_usage;
  const long count = static_cast<long>(r.current->slides.size());
  if (target < 0 || target >= count) {
    *r.context->out << (target >= count
                            ? fmt::format("That was the last slide of {}.", r.current->key)
                            : std::string("This is the first slide."));
    if (target >= count) {
      for (const auto& s : r.current->slides)
        if (s.exercise && !s.exercise->coming)
          *r.context->out << fmt::format(" Next: `exercise {}`.", s.exercise->name);
      *r.context->out << " `lessons` lists the others.";
    }
    *r.context->out << "\n";
    return exit_code::ok;
  }
  r.slide = static_cast<std::size_t>(target);
  show_slide(r);
  return exit_code::ok;
}

int run_slide_demo(repl_state& r, const std::vector<std::string>& words) {
  if (!need_lesson(r)) return exit_code::bad_usage;
  const slide& s = r.current->slides[r.slide];
  if (!s.demo) {
    *r.context->out << "This slide has no demo. `demo --list` shows every demo.\n";
    return exit_code::ok;
  }
  if (s.demo->coming) {
    *r.context->out << fmt::format("The demo {} comes in a later version of the lab.\n",
                                   s.demo->name);
    return exit_code::ok;
  }
  try {
    return show_demo(*r.context, s.demo->name, s.demo->params, parse_params(words));
  } catch (const std::invalid_argument& error) {
    *r.context->err << fmt::format("run: {}; parameters are key=value, e.g. workers=1,2\n",
                                   error.what());
    return exit_code::bad_usage;
  }
}

// The exercise the open lesson leads to, or "".
std::string lesson_exercise(const repl_state& r) {
  if (r.current == nullptr) return "";
  for (const auto& s : r.current->slides)
    if (s.exercise && !s.exercise->coming) return s.exercise->name;
  return "";
}

// Adds the REPL's own commands to the app; `lesson NAME` opens it here.
void add_repl_commands(CLI::App& app, repl_state& r) {
  app_context& c = *r.context;
  auto name = std::make_shared<std::string>();
  for (const char* word : {"open", "lesson"}) {
    CLI::App* open = word == std::string("open") ? app.add_subcommand("open", "Open a lesson")
                                                 : app.get_subcommand("lesson");
    if (word == std::string("open"))
      open->add_option("name", *name, "The lesson")->required();
    else
      open->get_option("name")->each([name](const std::string& v) { *name = v; });
    c.runners[open] = [&r, name] { return open_lesson(r, *name); };
  }
  c.runners[app.add_subcommand("next", "Next slide")] = [&r] {
    return move_to(r, static_cast<long>(r.slide) + 1);
  };
  c.runners[app.add_subcommand("back", "Previous slide")] = [&r] {
    return move_to(r, static_cast<long>(r.slide) - 1);
  };
  c.runners[app.add_subcommand("show", "Show this slide again")] = [&r] {
    return move_to(r, static_cast<long>(r.slide));
  };
  auto number = std::make_shared<long>(1);
  CLI::App* go = app.add_subcommand("goto", "Go to slide N");
  go->add_option("n", *number, "Slide number")->required();
  c.runners[go] = [&r, number] { return move_to(r, *number - 1); };
  auto params = std::make_shared<std::vector<std::string>>();
  CLI::App* run = app.add_subcommand("run", "Run this slide's demo, e.g. run workers=1,2");
  run->add_option("params", *params, "key=value");
  c.runners[run] = [&r, params] { return run_slide_demo(r, *params); };
  c.runners[app.add_subcommand("help", "The REPL's commands")] = [&c] {
    *c.out << repl_help << "\n";
    return exit_code::ok;
  };
  for (const char* word : {"quit", "exit"})
    c.runners[app.add_subcommand(word, "Leave the lab")] = [&r] {
      r.quit = true;
      return exit_code::ok;
    };
}

// Runs one line: a fresh app per line, so that no option keeps its value
// from an earlier command.
void run_line(repl_state& r, std::string line) {
  app_context& c = *r.context;
  std::istringstream words(line);
  std::string first;
  words >> first;
  if (first.empty()) {
    if (r.current != nullptr) move_to(r, static_cast<long>(r.slide) + 1);
    return;
  }
  // `exercise`, `solution` and `hint` without a name (maybe with options)
  // mean the open lesson's exercise.
  std::string rest;
  words >> rest;
  if ((rest.empty() || rest[0] == '-') &&
      (first == "exercise" || first == "solution" || first == "hint")) {
    const std::string name = lesson_exercise(r);
    if (name.empty()) {
      *c.err << fmt::format(
          "{} which exercise? `list` shows them (or open a lesson that has one)\n", first);
      return;
    }
    line = first + " " + name + line.substr(line.find(first) + first.size());
  }
  c.runners.clear();
  auto app = make_app(c);
  add_repl_commands(*app, r);
  try {
    app->parse(line, false);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) {
      app->exit(error, *c.out, *c.err);
    } else {
      *c.err << fmt::format("{} (`help` lists the commands)\n", error.what());
    }
    return;
  }
  clear_interrupt();
  run_parsed(*app, c);
}

std::string prompt(const repl_state& r) {
  if (r.current == nullptr) return "lab> ";
  return fmt::format("lab[{} {}/{}]> ", r.current->key, r.slide + 1, r.current->slides.size());
}

// libedit completion: commands first, then lesson or exercise names.
char* next_candidate(const char* text, int state) {
  static std::size_t index;
  if (state == 0) index = 0;
  const std::string prefix = text;
  while (index < candidates.size()) {
    const std::string& candidate = candidates[index++];
    if (candidate.rfind(prefix, 0) == 0) return strdup(candidate.c_str());
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  candidates.clear();
  const std::string line = rl_line_buffer;
  std::istringstream words(line.substr(0, static_cast<std::size_t>(start)));
  std::string first;
  words >> first;
  if (first.empty()) {
    candidates.assign(std::begin(repl_commands), std::end(repl_commands));
  } else if (completing_for != nullptr && first == "step") {
    candidates = stepper::model_names(completing_for->context->the_course().root);
  } else if (completing_for != nullptr && (first == "open" || first == "lesson")) {
    candidates = completing_for->context->lessons().keys();
  } else if (completing_for != nullptr &&
             (first == "exercise" || first == "solution" || first == "hint")) {
    candidates = completing_for->context->the_course().names();
  }
  rl_attempted_completion_over = 1;  // no file-name completion after ours
  return rl_completion_matches(text, next_candidate);
}

// Reads one line; false at the end of input (Ctrl-D).
bool read_line(repl_state& r, std::string& line) {
  if (!r.interactive) return static_cast<bool>(std::getline(std::cin, line));
  for (;;) {
    char* raw = readline(prompt(r).c_str());
    if (raw == nullptr) {
      if (interrupt_pending()) {  // Ctrl-C at the prompt: a fresh prompt, not an exit
        clear_interrupt();
        std::cout << "\n";
        continue;
      }
      std::cout << "\n";
      return false;
    }
    line = raw;
    std::free(raw);
    return true;
  }
}

}  // namespace

int run_repl(app_context& context) {
  // What lab suggests from here on is typed at this prompt, without "lab".
  const repl_suggestions typed_here;
  repl_state r;
  r.context = &context;
  r.interactive = isatty(STDIN_FILENO) != 0;
  const auto history = progress_file_for(context.the_course().root).parent_path() / "history";
  // The REPL keeps the student's progress and history: a folder it cannot
  // write is said now, in one line (run_guarded), not after the first slide.
  std::filesystem::create_directories(history.parent_path());
  if (access(history.parent_path().c_str(), W_OK) != 0)
    throw std::filesystem::filesystem_error("not writable", history.parent_path(),
                                            std::error_code(errno, std::generic_category()));
  if (r.interactive) {
    completing_for = &r;
    rl_attempted_completion_function = complete;
    using_history();
    read_history(history.c_str());
    // Commands that ask for input (the race stepper) get line editing too.
    context.read_line = [](const std::string& prompt_text, std::string& line) {
      char* raw = readline(prompt_text.c_str());
      if (raw == nullptr) return false;
      line = raw;
      std::free(raw);
      return true;
    };
    const style s = style_for(1);
    std::cout << s.strong("lab: the concurrency lab.")
              << " `lessons` lists the lessons, `open NAME` opens one, "
              << "`help` lists the commands.\n";
  }
  std::string line;
  while (!r.quit && read_line(r, line)) {
    if (r.interactive && line.find_first_not_of(" \t") != std::string::npos) {
      add_history(line.c_str());
      write_history(history.c_str());
    }
    run_line(r, line);
  }
  completing_for = nullptr;
  context.read_line = read_standard_input;
  return exit_code::ok;
}

}  // namespace lab
