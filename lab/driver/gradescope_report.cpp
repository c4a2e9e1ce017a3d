#include "gradescope_report.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "invocation.hpp"

namespace lab {
namespace {

using json = nlohmann::json;

// A message of several lines, indented under its check's line.
std::string indented(const std::string& text) {
  std::string out;
  for (char ch : text) {
    out += ch;
    if (ch == '\n') out += "    ";
  }
  return out;
}

// What one stage's test says: a line per check, then what stopped the
// program, if anything.
std::string stage_output(const stage_result& stage) {
  std::string out;
  // An untouched stage: its todo() once, not under every check.
  if (stage.not_started() && !stage.checks.empty()) {
    const auto todo = std::find_if(stage.checks.begin(), stage.checks.end(),
                                   [](const check_result& check) { return check.todo; });
    out += "Not started: " + (todo != stage.checks.end() ? todo->message : "") + "\n";
    for (const auto& check : stage.checks) out += fmt::format("✘ {}\n", check.name);
    return out;
  }
  if (stage.undecided())
    out += "The grading machine was too busy to decide this stage; this is not a verdict on "
           "your code. Submit again, or ask for a regrade.\n";
  for (const auto& check : stage.checks) {
    if (check.passed) {
      out += fmt::format("✔ {}\n", check.name);
    } else {
      const char* kind = check.todo ? "not started: " : check.undecided ? "undecided: " : "";
      out += fmt::format("✘ {} — {}{}\n", check.name, kind, indented(check.message));
      if (!check.output.empty())
        out += fmt::format("    last lines it printed:\n    {}\n", indented(check.output));
    }
  }
  if (!stage.problem.empty()) out += "The program stopped: " + stage.problem + "\n";
  return out;
}

// What every stage's test says when the exercise did not build: the
// compiler's words in the first, a pointer to them in the others.
std::string build_output(const exercise_result& r, int stage) {
  if (r.build.course_bug)
    return "The course's own checks did not build (not your code's fault): tell your "
           "instructor.\n" +
           (stage == 1 ? r.build.summary + "\n" : std::string());
  if (stage != 1) return "Your code did not compile: see stage 1 for the compiler's messages.\n";
  return "Your code did not compile: " + r.build.summary + "\n\n" + r.build.diagnostics;
}

}  // namespace

json grade_gradescope(const course& c, const std::vector<exercise_result>& results) {
  json tests = json::array();
  int score = 0, stages = 0, undecided = 0;
  double seconds = 0;
  // Every exercise of one grade runs with the same seed: the first says it.
  const std::uint64_t seed = results.empty() ? 0 : results.front().seed;
  for (std::size_t index = 0; index < c.exercises.size(); ++index) {
    const exercise& e = c.exercises[index];
    const auto result = std::find_if(results.begin(), results.end(),
                                     [&](const exercise_result& r) { return r.exercise == e.name; });
    if (result != results.end()) seconds += result->build.seconds;
    for (std::size_t s = 0; s < e.stages.size(); ++s) {
      const int number = static_cast<int>(s) + 1;
      const std::string& title = e.stages[s].title;
      json test = {{"name", fmt::format("{}, stage {}{}{}", e.name, number,
                                        title.empty() ? "" : ": ", title)},
                   {"number", fmt::format("{}.{}", index + 1, number)},
                   {"max_score", 1},
                   {"tags", json::array({e.name})}};
      bool passed = false;
      std::string output;
      if (result == results.end()) {
        output = "Not graded: grading stopped before this exercise.\n";
      } else if (!result->build.ok) {
        output = build_output(*result, number);
      } else {
        const auto stage =
            std::find_if(result->stages.begin(), result->stages.end(),
                         [&](const stage_result& each) { return each.number == number; });
        if (stage == result->stages.end()) {
          output = "Not graded: grading stopped before this stage.\n";
        } else {
          passed = stage->passed();
          if (stage->undecided()) ++undecided;
          output = stage_output(*stage);
          for (const auto& check : stage->checks) seconds += check.seconds;
        }
      }
      test["score"] = passed ? 1 : 0;
      test["status"] = passed ? "passed" : "failed";
      test["output"] = output;
      tests.push_back(test);
      score += passed ? 1 : 0;
      ++stages;
    }
  }
  std::string summary = fmt::format("{} of {} stages pass.", score, stages);
  if (undecided > 0)
    summary += fmt::format(
        " The grading machine was too busy to decide {} stage{}: that is not a verdict on your "
        "code; submit again, or ask for a regrade.",
        undecided, undecided == 1 ? "" : "s");
  summary += fmt::format(" Inputs came from seed {}: `{}` replays them.", seed,
                         lab_command(fmt::format("exercise NAME --seed {}", seed)));
  return {{"score", score},
          {"execution_time", static_cast<long>(std::lround(seconds))},
          {"output", summary},
          {"tests", tests},
          {"extra_data", {{"seed", seed}, {"undecided_stages", undecided}}}};
}

}  // namespace lab
