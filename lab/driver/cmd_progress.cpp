// lab progress: lessons seen (a bar per lesson) and exercises passed.
#include <fmt/core.h>

#include <algorithm>
#include <ostream>

#include "app.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

std::string bar(std::size_t done, std::size_t total, bool unicode) {
  constexpr std::size_t width = 20;
  const std::size_t filled = total == 0 ? 0 : done * width / total;
  std::string text;
  for (std::size_t i = 0; i < width; ++i)
    text += i < filled ? (unicode ? "█" : "#") : (unicode ? "░" : "-");
  return text;
}

int run_progress(app_context& context) {
  const style s = style_for(1);
  auto& data = context.progress().data();
  // One name column for both tables, as wide as the longest name (at least
  // 18), so that a long name never pushes its row out of line.
  std::size_t width = 18;
  for (const auto& l : context.lessons().lessons) width = std::max(width, l.key.size());
  for (const auto& e : context.the_course().exercises) width = std::max(width, e.name.size());
  *context.out << s.strong("Lessons") << "\n";
  for (const auto& l : context.lessons().lessons) {
    const auto seen =
        data["lessons"].value(l.key, nlohmann::json::object()).value("seen", std::vector<int>{});
    *context.out << fmt::format("  {:<{}} {} {:>2}/{} slides\n", l.key, width,
                                bar(seen.size(), l.slides.size(), s.unicode), seen.size(),
                                l.slides.size());
  }
  *context.out << s.strong("Exercises") << "\n";
  for (const auto& e : context.the_course().exercises) {
    const nlohmann::json* record = context.progress().find_exercise(e.name);
    std::string status = "not started";
    if (record != nullptr && record->value("status", "") == "done")
      status = "done, passed " + record->value("passed_at", std::string("?"));
    else if (record != nullptr && record->contains("last_run"))
      status =
          fmt::format("failing ({}/{} stages pass)",
                      record->value("stages_passed", std::vector<int>{}).size(), e.stages.size());
    if (record != nullptr && record->value("hints_shown", 0) > 0)
      status += fmt::format(", {} hint{} seen", record->value("hints_shown", 0),
                            record->value("hints_shown", 0) == 1 ? "" : "s");
    *context.out << fmt::format("  {:<{}} {}\n", e.name, width, status);
  }
  return exit_code::ok;
}

}  // namespace

void setup_progress(CLI::App& app, app_context& context) {
  CLI::App* sub =
      app.add_subcommand("progress", "Show the lessons you have seen and the exercises you passed");
  context.runners[sub] = [&context] { return run_progress(context); };
}

}  // namespace lab
