#include "benchmarks.hpp"

#include <fmt/core.h>

#include <nlohmann/json.hpp>

#include "course.hpp"
#include "demo_params.hpp"
#include "json_file.hpp"
#include "lesson.hpp"

namespace lab {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::filesystem::path& file, std::size_t line,
                       const std::string& what) {
  if (line == 0) throw course_error(fmt::format("{}: {}", file.string(), what));
  throw course_error(fmt::format("{}:{}: {}", file.string(), line, what));
}

metric_target read_target(const json& entry, const std::filesystem::path& file, std::size_t line,
                          const std::string& who) {
  metric_target target;
  if (!entry.is_object() || !entry.contains("metric") || !entry["metric"].is_string())
    fail(file, line, who + ": each target needs a \"metric\" name");
  target.metric = entry["metric"].get<std::string>();
  if (entry.contains("at_least") && entry["at_least"].is_number()) {
    target.how = metric_target::kind::at_least;
    target.value = entry["at_least"].get<double>();
  } else if (entry.contains("at_most") && entry["at_most"].is_number()) {
    target.how = metric_target::kind::at_most;
    target.value = entry["at_most"].get<double>();
  } else if (entry.contains("near") && entry["near"].is_number()) {
    target.how = metric_target::kind::near;
    target.value = entry["near"].get<double>();
    if (!entry.contains("tolerance") || !entry["tolerance"].is_number())
      fail(file, line, who + ": a \"near\" target needs a \"tolerance\", e.g. 0.10 for ±10%");
    target.tolerance = entry["tolerance"].get<double>();
  } else {
    fail(file, line,
         fmt::format("{}: target \"{}\" needs \"at_least\", \"at_most\" or \"near\" with a number",
                     who, target.metric));
  }
  return target;
}

}  // namespace

std::vector<benchmark> load_benchmarks(const std::filesystem::path& file) {
  const auto [text, document] =
      read_json_file(file, file.string(), "it lists the benchmarks of the course's lessons");
  if (!document.is_object() || !document.contains("benchmarks") ||
      !document["benchmarks"].is_array())
    fail(file, 1, "expected {\"benchmarks\": [ ... ]}");

  std::vector<benchmark> result;
  for (const auto& entry : document["benchmarks"]) {
    benchmark b;
    b.name = entry.value("name", "");
    const std::size_t line = line_of_word(text, b.name);
    if (b.name.empty()) fail(file, 0, "a benchmark has no \"name\"");
    const std::string who = "benchmark " + b.name;
    b.demo = entry.value("demo", "");
    if (b.demo.empty()) fail(file, line, who + ": no \"demo\" to run");
    b.what = entry.value("what", "");
    try {
      b.params = parse_params_text(entry.value("params", ""));
    } catch (const std::invalid_argument& error) {
      fail(file, line, who + ": " + error.what());
    }
    b.limits = entry.value("limits", nlohmann::json());
    try {
      apply_limits(run_profile{}, b.limits);  // refused now, with the line, not at run time
    } catch (const std::invalid_argument& error) {
      fail(file, line, who + ": " + error.what());
    }
    if (entry.contains("targets")) {
      if (!entry["targets"].is_array()) fail(file, line, who + ": \"targets\" must be a list");
      for (const auto& target : entry["targets"])
        b.targets.push_back(read_target(target, file, line, who));
    }
    result.push_back(std::move(b));
  }
  return result;
}

bool target_met(const metric_target& target, double measured) {
  switch (target.how) {
    case metric_target::kind::at_least:
      return measured >= target.value;
    case metric_target::kind::at_most:
      return measured <= target.value;
    case metric_target::kind::near:
      return measured >= target.value * (1 - target.tolerance) &&
             measured <= target.value * (1 + target.tolerance);
  }
  return false;
}

std::string describe_target(const metric_target& target, const std::string& unit) {
  const std::string spaced_unit = unit == "x" || unit.empty() ? unit : " " + unit;
  switch (target.how) {
    case metric_target::kind::at_least:
      return fmt::format("≥ {:g}{}", target.value, spaced_unit);
    case metric_target::kind::at_most:
      return fmt::format("≤ {:g}{}", target.value, spaced_unit);
    case metric_target::kind::near:
      return fmt::format("{:g}{} ±{:g}%", target.value, spaced_unit, target.tolerance * 100);
  }
  return "";
}

}  // namespace lab
