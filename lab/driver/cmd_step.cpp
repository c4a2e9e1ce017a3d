// lab step NAME: play the scheduler on a model of a racing program. You pick
// which thread takes the next atomic step, can undo, and see the shared
// state after each step; you win when the bad outcome appears. The schedule
// you chose prints as a string (ABAB...) that `--schedule` replays exactly;
// `--explore` counts the outcomes of every interleaving instead.
//
// lesson: races
#include <fmt/core.h>
#include <unistd.h>

#include <explore.hpp>
#include <iostream>
#include <machine.hpp>
#include <ostream>
#include <view.hpp>

#include "app.hpp"
#include "invocation.hpp"
#include "suggest.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

constexpr const char* step_help =
    "  A, B, ...   that thread takes its next step (several letters: one after another)\n"
    "  u           undo the last step        r   restart\n"
    "  s           show the state again      e   explore: count every interleaving\n"
    "  q           back to the lab";

struct step_options {
  std::string name;
  std::optional<int> threads;
  std::string schedule;
  bool explore = false;
};

// One game: the model, the worlds so far (the last is now), the schedule.
struct game {
  const stepper::model* m = nullptr;
  int threads = 2;
  std::vector<stepper::world> history;
  std::string schedule;
};

// Prints what the finished world means, and how to replay it.
void print_end(std::ostream& out, const game& g) {
  const stepper::world& w = g.history.back();
  if (!stepper::all_finished(*g.m, w)) {
    out << "Deadlock: no thread can take a step. Schedule " << g.schedule << "\n";
    return;
  }
  const std::string outcome = stepper::outcome_text(*g.m, w);
  if (stepper::is_bad(*g.m, w))
    out << fmt::format("You win: {} ({}). Schedule {}; replay it with: step {} --schedule {}\n",
                       outcome, g.m->bad, g.schedule, g.m->name, g.schedule);
  else
    out << fmt::format(
        "Every thread finished: {}, which is correct. Schedule {}. "
        "u undoes a step; try another order.\n",
        outcome, g.schedule);
}

// Takes the steps a line of thread letters names; false (and why) on the
// first one that cannot go.
bool take_steps(std::ostream& out, game& g, const std::string& letters) {
  for (char letter : letters) {
    const int t = stepper::thread_of(letter, g.threads);
    const stepper::world now = g.history.back();  // a copy: push_back below may move it
    if (t < 0 || !stepper::can_step(*g.m, now, t)) {
      out << fmt::format("{} cannot step: {}\n", letter,
                         t < 0                             ? "no such thread"
                         : stepper::finished(*g.m, now, t) ? "it has finished"
                                                           : "it waits for the lock");
      return false;
    }
    g.history.push_back(stepper::take_step(*g.m, now, t));
    g.schedule += stepper::thread_letter(t);
    out << "  " << stepper::show_step(*g.m, now, g.history.back(), t) << "\n";
  }
  return true;
}

bool only_letters(const std::string& word, int threads) {
  if (word.empty()) return false;
  for (char c : word)
    if (stepper::thread_of(c, threads) < 0) return false;
  return true;
}

int play(app_context& context, game& g) {
  std::ostream& out = *context.out;
  out << fmt::format("{}\nThreads A to {} each run:\n{}\n{}\n", g.m->summary,
                     stepper::thread_letter(g.threads - 1), stepper::show_program(*g.m), step_help);
  out << stepper::show_world(*g.m, g.history.back());
  std::string line;
  while (context.read_line(fmt::format("step[{} {}]> ", g.m->name, g.schedule), line)) {
    const auto first = line.find_first_not_of(" \t");
    const std::string word = first == std::string::npos
                                 ? ""
                                 : line.substr(first, line.find_last_not_of(" \t") - first + 1);
    if (word == "q" || word == "quit") break;
    if (word.empty() || word == "s" || word == "show") {
      out << stepper::show_world(*g.m, g.history.back());
      continue;
    }
    if (word == "?" || word == "help") {
      out << step_help << "\n";
      continue;
    }
    if (word == "u" || word == "undo") {
      if (g.history.size() == 1) {
        out << "Nothing to undo.\n";
        continue;
      }
      g.history.pop_back();
      g.schedule.pop_back();
      out << stepper::show_world(*g.m, g.history.back());
      continue;
    }
    if (word == "r" || word == "restart") {
      g.history.resize(1);
      g.schedule.clear();
      out << stepper::show_world(*g.m, g.history.back());
      continue;
    }
    if (word == "e" || word == "explore") {
      out << stepper::show_exploration(*g.m, g.threads, stepper::explore(*g.m, g.threads));
      continue;
    }
    if (!only_letters(word, g.threads)) {
      out << fmt::format("'{}' is not a thread (A to {}) or a command; ? lists them\n", word,
                         stepper::thread_letter(g.threads - 1));
      continue;
    }
    take_steps(out, g, word);
    out << stepper::show_world(*g.m, g.history.back());
    const stepper::world& now = g.history.back();
    bool any_can_step = false;
    for (int t = 0; t < g.threads; ++t) any_can_step |= stepper::can_step(*g.m, now, t);
    if (!any_can_step) print_end(out, g);
  }
  return exit_code::ok;
}

int run_step(const step_options& options, app_context& context) {
  const auto root = context.the_course().root;
  const auto names = stepper::model_names(root);
  if (options.name.empty()) {
    *context.out << "Programs to play the scheduler on (" << lab_command("step NAME") << "):\n";
    for (const auto& name : names) *context.out << "  " << name << "\n";
    return exit_code::ok;
  }
  if (std::find(names.begin(), names.end(), options.name) == names.end()) {
    *context.err << fmt::format("lab step: no program named '{}'.{} ({} lists them)\n",
                                options.name, did_you_mean(options.name, names),
                                lab_command("step"));
    return exit_code::bad_usage;
  }
  stepper::model m;
  try {
    m = stepper::load_model(stepper::model_file(root, options.name));
  } catch (const stepper::model_error& error) {
    *context.err << "lab step: " << error.what() << "\n";
    return exit_code::bad_usage;
  }
  game g{&m, options.threads.value_or(m.threads), {}, ""};
  if (g.threads < 1 || g.threads > 4) {
    *context.err << "lab step: --threads should be 1 to 4\n";
    return exit_code::bad_usage;
  }
  g.history.push_back(stepper::initial_world(m, g.threads));
  if (options.explore) {
    *context.out << stepper::show_exploration(m, g.threads, stepper::explore(m, g.threads));
    return exit_code::ok;
  }
  if (options.schedule.empty()) return play(context, g);

  // Replay: check the whole schedule first, so that a typo says where it is.
  std::string error;
  stepper::replay(m, g.threads, options.schedule, error);
  if (!error.empty()) {
    *context.err << fmt::format("lab step: schedule {}: {}\n", options.schedule, error);
    return exit_code::bad_usage;
  }
  take_steps(*context.out, g, options.schedule);
  *context.out << stepper::show_world(m, g.history.back());
  if (stepper::all_finished(m, g.history.back())) print_end(*context.out, g);
  return exit_code::ok;
}

}  // namespace

void setup_step(CLI::App& app, app_context& context) {
  auto options = std::make_shared<step_options>();
  CLI::App* sub = app.add_subcommand(
      "step", "Play the scheduler on a racing program, e.g. " + lab_command("step counter"));
  sub->add_option("name", options->name, "The program (" + lab_command("step") + " lists them)");
  sub->add_option("--threads", options->threads, "How many threads (1 to 4)");
  sub->add_option("--schedule", options->schedule, "Replay a schedule such as ABBA");
  sub->add_flag("--explore", options->explore, "Count the outcomes of every interleaving");
  context.runners[sub] = [options, &context] { return run_step(*options, context); };
}

}  // namespace lab
