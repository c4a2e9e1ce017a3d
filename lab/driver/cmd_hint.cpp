// lab hint NAME [--stage N]: the next hint for one stage of an exercise, by
// default the stage the student is on. Hints come one at a time; how many of
// each stage were shown is remembered in the progress file (hints_seen.hpp).
#include <fmt/core.h>

#include <optional>
#include <ostream>

#include "app.hpp"
#include "hints_seen.hpp"
#include "invocation.hpp"
#include "render.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct hint_options {
  std::string name;
  std::optional<int> stage;
  bool all = false;
};

// Why these are the hints of this stage, when the student did not say
// (one line; nothing for an exercise of one stage).
std::string why_this_stage(const exercise& e, const hint_stage& chosen) {
  if (e.stages.size() == 1) return "";
  switch (chosen.why) {
    case hint_stage::reason::nothing_recorded:
      return fmt::format("No run of {} is recorded yet: hints for stage 1 (--stage N for another).",
                         e.name);
    case hint_stage::reason::not_passed:
      return fmt::format(
          "Stage {} is the first stage of {} you have not passed (--stage N for another).",
          chosen.stage, e.name);
    case hint_stage::reason::all_passed:
      return fmt::format(
          "Every stage of {} passes: hints for its last, stage {} (--stage N for "
          "another).",
          e.name, chosen.stage);
  }
  return "";
}

// "Hint 1 of 2 for stage 3, fork()ed worker processes:", or for an exercise
// of one stage "Hint 1 of 2:".
std::string heading(const exercise& e, int stage, int number, int total) {
  if (e.stages.size() == 1) return fmt::format("Hint {} of {}:", number, total);
  const std::string& title = e.stages[static_cast<std::size_t>(stage - 1)].title;
  return fmt::format("Hint {} of {} for stage {}{}:", number, total, stage,
                     title.empty() ? "" : ", " + title);
}

int run_hint(const hint_options& options, app_context& context) {
  const exercise* e = find_exercise_or_explain(context, options.name);
  if (e == nullptr) return exit_code::bad_usage;
  const int stages = static_cast<int>(e->stages.size());
  if (options.stage && (*options.stage < 1 || *options.stage > stages)) {
    *context.err << fmt::format("lab: {} has stages 1 to {}; there is no stage {}\n", e->name,
                                stages, *options.stage);
    return exit_code::bad_usage;
  }
  const style s = style_for(1);
  if (e->hints.empty()) {
    *context.out << fmt::format("{} has no hints. Read the comment at the top of exercises/{}.\n",
                                e->name, e->file);
    return exit_code::ok;
  }
  const nlohmann::json* record = context.progress().find_exercise(e->name);
  const hint_stage chosen =
      options.stage ? hint_stage{*options.stage, {}} : stage_for_hints(record, *e);
  const int stage = chosen.stage;
  if (!options.stage)
    if (const std::string why = why_this_stage(*e, chosen); !why.empty())
      *context.out << s.note(why) << "\n";
  const std::vector<std::string> hints = e->hints_for(stage);
  const int total = static_cast<int>(hints.size());
  if (total == 0) {
    *context.out << fmt::format(
        "Stage {} of {} has no hints. Read the comment at the top of exercises/{}.\n", stage,
        e->name, e->file);
    return exit_code::ok;
  }
  const int shown = hints_seen(record, *e, stage);
  const int upto = options.all ? std::max(shown, 1) : std::min(shown + 1, total);
  for (int i = options.all ? 1 : upto; i <= upto; ++i)
    *context.out << s.strong(heading(*e, stage, i, total)) << "\n"
                 << wrap_paragraph(hints[static_cast<std::size_t>(i - 1)], terminal_width(1) - 2,
                                   0);
  // Asked again the same way, lab shows the next hint of the same stage.
  const std::string again = lab_command(
      "hint " + e->name + (options.stage ? fmt::format(" --stage {}", stage) : std::string()));
  if (upto == total && !options.all)
    *context.out << s.note(fmt::format("That was the last hint{}. `{}` runs the reference "
                                       "solution.",
                                       stages == 1 ? "" : fmt::format(" of stage {}", stage),
                                       lab_command("solution " + e->name)))
                 << "\n";
  else if (!options.all)
    *context.out << s.note(fmt::format("`{}` again for the next one; --all repeats those seen.",
                                       again))
                 << "\n";
  if (upto > shown)
    context.update_progress([&](progress_store& progress) {
      // Merged into what is on disk now: another lab may have shown more meanwhile.
      record_hints_seen(progress.exercise(e->name), *e, stage, upto);
    });
  return exit_code::ok;
}

}  // namespace

void setup_hint(CLI::App& app, app_context& context) {
  auto options = std::make_shared<hint_options>();
  CLI::App* sub = app.add_subcommand(
      "hint", "Show the next hint for the stage you are on: the first you have not passed");
  sub->add_option("name", options->name, "The exercise")->required();
  sub->add_option("--stage", options->stage, "The hints of this stage instead (1, 2, ...)");
  sub->add_flag("--all", options->all, "Show every hint of the stage seen so far again");
  context.runners[sub] = [options, &context] { return run_hint(*options, context); };
}

}  // namespace lab
