// lab list: every exercise with its lesson, stage count and status.
#include <fmt/core.h>

#include <algorithm>
#include <ostream>

#include "app.hpp"
#include "invocation.hpp"
#include "terminal.hpp"

namespace lab {
namespace {

struct list_options {};

std::string status_of(const progress_store& progress, const exercise& e) {
  const nlohmann::json* record = progress.find_exercise(e.name);
  if (record == nullptr || !record->contains("last_run")) return "not started";
  if (record->value("status", "") == "done") return "done";
  const auto passed = record->value("stages_passed", std::vector<int>{});
  return fmt::format("failing ({}/{} stages pass)", passed.size(), e.stages.size());
}

int run_list(const list_options&, app_context& context) {
  const course& c = context.the_course();
  progress_store& progress = context.progress();
  const style s = style_for(1);
  // Columns as wide as their longest entry, so that a long name never
  // pushes its row out of line.
  std::size_t name_width = std::string("exercise").size();
  std::size_t lesson_width = std::string("lesson").size();
  for (const auto& e : c.exercises) {
    name_width = std::max(name_width, e.name.size());
    lesson_width = std::max(lesson_width, e.lesson.size());
  }
  *context.out << fmt::format("{:<{}}  {:<{}}  {:>6}  {}\n", "exercise", name_width, "lesson",
                              lesson_width, "stages", "status");
  for (const auto& e : c.exercises) {
    const std::string status = status_of(progress, e);
    const std::string shown = status == "done"          ? s.good(status)
                              : status == "not started" ? s.note(status)
                                                        : s.bad(status);
    *context.out << fmt::format("{:<{}}  {:<{}}  {:>6}  ", e.name, name_width, e.lesson,
                                lesson_width, e.stages.size())
                 << shown << "\n";
  }
  *context.out << s.note("Run one with: " + lab_command("exercise NAME")) << "\n";
  return exit_code::ok;
}

}  // namespace

void setup_list(CLI::App& app, app_context& context) {
  auto options = std::make_shared<list_options>();
  CLI::App* sub =
      app.add_subcommand("list", "List the exercises with their lesson, stages and your status");
  context.runners[sub] = [options, &context] { return run_list(*options, context); };
}

}  // namespace lab
