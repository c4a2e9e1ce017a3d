// lab hint NAME: the next hint of an exercise. Hints come one at a time; the
// number shown is remembered in the progress file.
#include <fmt/core.h>

#include <ostream>

#include "app.hpp"
#include "invocation.hpp"
#include "render.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct hint_options {
  std::string name;
  bool all = false;
};

int run_hint(const hint_options& options, app_context& context) {
  const exercise* e = find_exercise_or_explain(context, options.name);
  if (e == nullptr) return exit_code::bad_usage;
  const style s = style_for(1);
  const int total = static_cast<int>(e->hints.size());
  if (total == 0) {
    *context.out << fmt::format("{} has no hints. Read the comment at the top of exercises/{}.\n",
                                e->name, e->file);
    return exit_code::ok;
  }
  const nlohmann::json* record = context.progress().find_exercise(e->name);
  const int shown = std::min(record == nullptr ? 0 : record->value("hints_shown", 0), total);
  const int upto = options.all ? std::max(shown, 1) : std::min(shown + 1, total);
  for (int i = options.all ? 1 : upto; i <= upto; ++i)
    *context.out << s.strong(fmt::format("Hint {} of {}:", i, total)) << "\n"
                 << wrap_paragraph(e->hints[static_cast<std::size_t>(i - 1)], terminal_width(1) - 2, 0);
  if (upto == total && !options.all)
    *context.out << s.note(fmt::format("That was the last hint. `{}` runs the reference solution.",
                                       lab_command("solution " + e->name)))
                 << "\n";
  else if (!options.all)
    *context.out << s.note(fmt::format("`{}` again for the next one; --all repeats those seen.",
                                       lab_command("hint " + e->name)))
                 << "\n";
  if (upto > shown)
    context.update_progress([&](progress_store& progress) {
      auto& fresh = progress.exercise(e->name);  // another lab may have shown more meanwhile
      fresh["hints_shown"] = std::max(fresh.value("hints_shown", 0), upto);
    });
  return exit_code::ok;
}

}  // namespace

void setup_hint(CLI::App& app, app_context& context) {
  auto options = std::make_shared<hint_options>();
  CLI::App* sub = app.add_subcommand("hint", "Show the next hint for an exercise");
  sub->add_option("name", options->name, "The exercise")->required();
  sub->add_flag("--all", options->all, "Show every hint seen so far again");
  context.runners[sub] = [options, &context] { return run_hint(*options, context); };
}

}  // namespace lab
