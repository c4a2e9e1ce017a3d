// lab lessons / lab lesson NAME [--slide N]: the lessons without the REPL.
#include <fmt/core.h>

#include <algorithm>
#include <ostream>

#include "app.hpp"
#include "invocation.hpp"
#include "render.hpp"
#include "suggest.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct lesson_options {
  std::string name;
  std::optional<int> slide;
};

int run_lessons_list(app_context& context) {
  const auto& set = context.lessons();
  const auto& data = context.progress().data();
  for (const auto& l : set.lessons) {
    const auto seen =
        data["lessons"].value(l.key, nlohmann::json::object()).value("seen", std::vector<int>{});
    *context.out << fmt::format("{:<18} {:>2}/{:<2} {}\n", l.key, seen.size(), l.slides.size(),
                                l.title);
  }
  *context.out << "Open one with: " << lab_command("lesson NAME");
  if (!in_repl()) *context.out << " (or `" << lab_command() << "` for the interactive lessons)";
  *context.out << "\n";
  return set.errors.empty() ? exit_code::ok : exit_code::bad_usage;
}

int run_lesson(const lesson_options& options, app_context& context) {
  const auto& set = context.lessons();
  const lesson* l = set.find(options.name);
  if (l == nullptr) {
    *context.err << fmt::format("lab: no lesson named '{}'.{} ({} shows them all)\n", options.name,
                                did_you_mean(options.name, set.keys()), lab_command("lessons"));
    return exit_code::bad_usage;
  }
  const int count = static_cast<int>(l->slides.size());
  if (options.slide && (*options.slide < 1 || *options.slide > count)) {
    *context.err << fmt::format("lab: lesson {} has slides 1 to {}\n", l->key, count);
    return exit_code::bad_usage;
  }
  const style s = style_for(1);
  const int width = terminal_width(1);
  const int first = options.slide.value_or(1), last = options.slide.value_or(count);
  for (int i = first; i <= last; ++i)
    *context.out << render_slide(*l, static_cast<std::size_t>(i - 1), s, width) << "\n";
  context.update_progress([&](progress_store& progress) {
    for (int i = first; i <= last; ++i) mark_slide_seen(progress, l->key, i);
  });
  return exit_code::ok;
}

}  // namespace

void mark_slide_seen(progress_store& progress, const std::string& lesson_key, int slide_number) {
  auto& record = progress.data()["lessons"][lesson_key];
  if (!record.is_object()) record = nlohmann::json::object();
  auto seen = record.value("seen", std::vector<int>{});
  if (std::find(seen.begin(), seen.end(), slide_number) == seen.end()) seen.push_back(slide_number);
  std::sort(seen.begin(), seen.end());
  record["seen"] = seen;
}

void setup_lessons(CLI::App& app, app_context& context) {
  CLI::App* list = app.add_subcommand("lessons", "List the lessons with the slides you have seen");
  context.runners[list] = [&context] { return run_lessons_list(context); };

  auto options = std::make_shared<lesson_options>();
  CLI::App* one = app.add_subcommand("lesson", "Print a lesson (or one slide of it)");
  one->add_option("name", options->name, "The lesson (" + lab_command("lessons") + " shows them)")
      ->required();
  one->add_option("--slide", options->slide, "Only this slide (1, 2, ...)");
  context.runners[one] = [options, &context] { return run_lesson(*options, context); };
}

}  // namespace lab
